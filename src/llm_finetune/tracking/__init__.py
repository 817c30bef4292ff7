"""Experiment tracking in MLflow, with what each run records declared in the catalog.

A ``kedro run`` is an MLflow run (:mod:`llm_finetune.hooks` wires the run's events); this package
holds the parts, one job each:

- :mod:`.uri`: whether a run is tracked, the tracking store and the mlflow.yml kedro-mlflow reads;
- :mod:`.catalog`: the catalog's tracking vocabulary (``metadata: {tracking: ...}``, documented in
  conf/base/catalog.yml) and what the catalog declares for each of a pipeline's datasets;
- :mod:`.records`: turning a dataset's data into metrics, per-step histories, parameters and the
  file to log as an artifact;
- :mod:`.params`: the Kedro parameters each node reads, as kedro-mlflow's settings log them;
- :mod:`.runs`: the MLflow runs of one ``kedro run`` (nested runs of the sweep's configurations);
- :mod:`.sweep`: the sweep's own records (configuration settings, overrides, best configuration);
- :mod:`.recorder`: what one tracked run records, dataset by dataset.

Cheap when off: no module here imports MLflow or kedro-mlflow when it is imported.
"""
