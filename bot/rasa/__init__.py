"""What the Rasa server loads by class path, and every change to Rasa's own code.

- components, spelling, nlp, offtopic, nlu_data: the NLU pipeline of config.yml
  and what builds its data (the spaCy entity ruler, the off-topic training sample);
- rendering: the NLG of endpoints.yml, which shapes each reply for its channel;
- tracker_store: the conversation store of endpoints.yml;
- lock_store: the lock store of endpoints.yml (Redis, with atomic ticket changes);
- speedups: faster drop-ins for Rasa hot paths;
- internals: the one door through which any of Rasa's own attributes is
  replaced, switched on by the launcher (bot/launch/rasa_run.py) and nowhere else.

Nothing here imports the channels, the launchers or the tooling.
"""
