"""Draft transcripts made on the archive's own machine: speech recognition (Whisper through
faster-whisper, the optional extra ``transcribe``) over a stored recording, the words grouped
into cues. The audio never leaves the machine and nothing is downloaded at run time.

- ``model``: find the model files, check every byte against the expected sha256, load once;
- ``cues``: words with times grouped into passages a curator can edit;
- ``draft``: one recording in, a language and cues out, with progress and a way to stop.
"""
