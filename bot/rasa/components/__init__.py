"""careerbot's own NLU pieces for Rasa 3.6, one module each, named by class path in config.yml.

- offtopic_importer: `OfftopicImporter`, the off-topic training sample as out_of_scope examples;
- wordllama_featurizer: `WordLlamaFeaturizer`, pretrained token vectors (WordLlama's);
- minilm_featurizer: `MiniLMFeaturizer`, the same with vectors distilled from MiniLM;
- logistic_classifier: `TunedLogisticRegressionClassifier`, Rasa's classifier, tunable and faster;
- in_domain_gate: `InDomainGate`, out_of_scope for a message unlike every career question;
- paths: where a path option of config.yml points.
"""
