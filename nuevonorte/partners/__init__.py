"""Partner archives: another city's archive re-exhibits this one's public stories, and this one
re-exhibits theirs, without ever showing a story beyond what its narrator allows (decision 0025,
docs/partners.md).

- ``address``: a partner's address, and the only addresses of it that are ever fetched;
- ``client``: the one way out to a partner (no redirects, bounded size and time);
- ``shown``: the rule for which partner stories may be shown here, and when;
- ``holdings``: partner stories kept, replaced and removed (database, index, collections);
- ``harvest``: reading a partner's change feed (a Nuevo Norte archive) or OAI-PMH (any other);
- ``notices``: subscriptions and signed withdrawal notices, both ways;
- ``schedule``: periodic harvests and the fail-closed expiry, driven by ``nuevonorte worker``;
- ``registry``: adding, listing and removing partners (the admin screen and the command line).
"""
