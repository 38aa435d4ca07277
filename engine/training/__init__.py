"""Learning from data: datasets, optimizers with torch.optim's rules, a trainer over any Graph,
a network builder, and pictures over the input plane.

>>> from engine import training
>>> X, y = training.dataset("moons", n=200, noise=0.1, seed=0)
>>> net = training.build_mlp(training.dataset("xor", n=100, seed=0), hidden=[4], seed=0)
>>> run = net.trainer(optimizer="adam", lr=0.05)
>>> result = run.run(steps=5); len(run.history), run.history[0].step
(5, 1)
"""

from .csvdata import MAX_ROWS, read_csv, read_header
from .datanode import DATASET, PORTS, data_value, dataset_of, dataset_params, find_dataset, use_dataset_node
from .datasets import (
    CLASSIFICATION,
    GENERATORS,
    MULTICLASS,
    REGRESSION,
    Dataset,
    check_recipe,
    dataset,
    from_points,
    from_recipe,
)
from .errors import DataError, TrainingError, TrainingStopped
from .network import ACTIVATIONS, FEATURES, Network, build_mlp
from .optim import OPTIMIZERS, Optimizer
from .pictures import Frame, PlanePictures, UnitPicture
from .setup import looks_like_parameter, training_setup
from .timeline import DEFAULT_BUDGET, Snapshot, Timeline
from .trainer import (
    Evaluation,
    History,
    ParamEdit,
    RunResult,
    StepRecord,
    Trainer,
    initial_value,
    layer_grad_norms,
)

csv = read_csv  # training.csv(path, features=..., target=...)

__all__ = [
    "ACTIVATIONS",
    "DATASET",
    "PORTS",
    "data_value",
    "dataset_of",
    "dataset_params",
    "find_dataset",
    "use_dataset_node",
    "looks_like_parameter",
    "training_setup",
    "CLASSIFICATION",
    "DEFAULT_BUDGET",
    "FEATURES",
    "GENERATORS",
    "MAX_ROWS",
    "MULTICLASS",
    "OPTIMIZERS",
    "REGRESSION",
    "DataError",
    "Dataset",
    "Evaluation",
    "Frame",
    "History",
    "Network",
    "Optimizer",
    "ParamEdit",
    "PlanePictures",
    "RunResult",
    "Snapshot",
    "StepRecord",
    "Timeline",
    "Trainer",
    "TrainingError",
    "TrainingStopped",
    "UnitPicture",
    "build_mlp",
    "check_recipe",
    "csv",
    "dataset",
    "from_points",
    "from_recipe",
    "initial_value",
    "layer_grad_norms",
    "read_csv",
    "read_header",
]
