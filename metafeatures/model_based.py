"""Model-based meta-features: the structure of a decision tree fitted to the data.

The tree is scikit-learn's ``DecisionTreeClassifier(random_state=seed, **hypparam_model_dt)``
(pymfe's model) fitted
to ``N`` (missing values imputed with column means) on a seeded, class-stratified subsample of at
most ``SAMPLE_SIZES["model-based"]`` (5000) rows; on data of that size or smaller the values
equal pymfe's for the same seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from metafeatures._input import Target
from metafeatures._registry import REGISTRY
from metafeatures._resources import (
    Config,
    Encoded,
    Moments,
    float32_safe,
    need_columns,
    single_threaded,
    stratified_subsample,
)

G = "model-based"


@dataclass(frozen=True)
class Tree:
    """A fitted tree's arrays (one entry per node).

    Attributes:
        feature: split attribute (-1 at leaves); n_samples: training rows reaching the node;
        depth: depth (root 0); leaf: bool; leaf_class: predicted class at leaves (-1 elsewhere);
        importances: (p,) impurity importances; n_features: columns the tree was fitted on.
    """

    feature: np.ndarray
    n_samples: np.ndarray
    depth: np.ndarray
    leaf: np.ndarray
    leaf_class: np.ndarray
    importances: np.ndarray
    n_features: int

    @property
    def n_leaves(self) -> int:
        return int(self.leaf.sum())

    @property
    def n_nodes(self) -> int:
        return int((~self.leaf).sum())


def _depths(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    depth = np.zeros(left.size, dtype=np.int64)
    stack = [0]
    while stack:
        node = stack.pop()
        for child in (left[node], right[node]):
            if child >= 0:
                depth[child] = depth[node] + 1
                stack.append(int(child))
    return depth


@REGISTRY.resource("tree", requires=("encoded", "moments", "target", "config"))
def _tree(enc: Encoded, mom: Moments, target: Target, config: Config) -> Tree:
    """The decision tree fitted to the model-based sample of N."""
    need_columns(enc)
    assert target.codes is not None
    idx = stratified_subsample(enc.n, config.sample_sizes["model-based"], target.codes,
                               config.seed)
    X = float32_safe(enc.take(idx, fill=mom.mean))
    from sklearn.tree import DecisionTreeClassifier

    with single_threaded():
        model = DecisionTreeClassifier(**{"random_state": config.seed, **config.tree_params}).fit(
            X, target.codes[idx])
    return tree_from_model(model)


def tree_from_model(model: Any) -> Tree:
    """The :class:`Tree` of a fitted single-output scikit-learn ``DecisionTreeClassifier``
    (also used by ``MFE.extract_from_model``; the caller checks the model's type)."""
    t = model.tree_
    leaf = t.feature < 0
    leaf_class = np.where(leaf, np.argmax(t.value[:, 0, :], axis=1), -1)
    return Tree(
        feature=t.feature.copy(),
        n_samples=t.n_node_samples.copy(),
        depth=_depths(t.children_left, t.children_right),
        leaf=leaf,
        leaf_class=leaf_class,
        importances=model.feature_importances_.copy(),
        n_features=int(t.n_features),
    )


def _shape(tree: Tree) -> np.ndarray:
    p = np.power(2.0, -tree.depth[tree.leaf].astype(np.float64))
    return -p * np.log2(p)


def _tree_measure(name: str, summarised: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return REGISTRY.measure(name, group=G, requires=("tree",), target="classes",
                            summarised=summarised)


@_tree_measure("leaves")
def leaves(tree: Tree) -> float:
    """Number of leaves."""
    return float(tree.n_leaves)


@_tree_measure("nodes")
def nodes(tree: Tree) -> float:
    """Number of internal (split) nodes."""
    return float(tree.n_nodes)


@_tree_measure("nodes_per_attr")
def nodes_per_attr(tree: Tree) -> float:
    """Internal nodes per attribute of N."""
    return tree.n_nodes / tree.n_features


@_tree_measure("nodes_per_inst")
def nodes_per_inst(tree: Tree) -> float:
    """Internal nodes per training instance."""
    return tree.n_nodes / float(tree.n_samples[0])


@_tree_measure("tree_depth", summarised=True)
def tree_depth(tree: Tree) -> np.ndarray:
    """Depth of every node."""
    return tree.depth.astype(np.float64)


@_tree_measure("leaves_branch", summarised=True)
def leaves_branch(tree: Tree) -> np.ndarray:
    """Depth of every leaf (length of each branch)."""
    return tree.depth[tree.leaf].astype(np.float64)


@_tree_measure("leaves_corrob", summarised=True)
def leaves_corrob(tree: Tree) -> np.ndarray:
    """Share of the training instances reaching each leaf."""
    return tree.n_samples[tree.leaf] / float(tree.n_samples[0])


@_tree_measure("tree_shape", summarised=True)
def tree_shape(tree: Tree) -> np.ndarray:
    """-p log2 p of the probability p = 2**-depth of a random walk reaching each leaf."""
    return _shape(tree)


@_tree_measure("leaves_homo", summarised=True)
def leaves_homo(tree: Tree) -> np.ndarray:
    """Number of leaves divided by each leaf's tree_shape value."""
    return tree.n_leaves / _shape(tree)


@_tree_measure("leaves_per_class", summarised=True)
def leaves_per_class(tree: Tree) -> np.ndarray:
    """Share of the leaves predicting each class (classes with at least one leaf; pymfe drops
    the only value when the tree is a single leaf)."""
    _, counts = np.unique(tree.leaf_class[tree.leaf], return_counts=True)
    return counts / float(tree.n_leaves)


@_tree_measure("nodes_per_level", summarised=True)
def nodes_per_level(tree: Tree) -> np.ndarray:
    """Number of internal nodes at each depth."""
    _, counts = np.unique(tree.depth[~tree.leaf], return_counts=True)
    return counts.astype(np.float64)


@_tree_measure("nodes_repeated", summarised=True)
def nodes_repeated(tree: Tree) -> np.ndarray:
    """Number of internal nodes splitting on each attribute used at least once."""
    _, counts = np.unique(tree.feature[~tree.leaf], return_counts=True)
    return counts.astype(np.float64)


@_tree_measure("var_importance", summarised=True)
def var_importance(tree: Tree) -> np.ndarray:
    """Impurity-based importance of each attribute of N."""
    return tree.importances


@_tree_measure("tree_imbalance", summarised=True)
def tree_imbalance(tree: Tree) -> np.ndarray:
    """pymfe's tree imbalance: for each distinct leaf probability p = 2**-depth occurring c
    times, -q log2 q with q = 2**-(p c)."""
    p = np.power(2.0, -tree.depth[tree.leaf].astype(np.float64))
    values, counts = np.unique(p, return_counts=True)
    q = np.power(2.0, -(values * counts))
    return -q * np.log2(q)
