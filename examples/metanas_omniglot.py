"""MetaNAS in a few lines: meta-learn alphas and weights on Omniglot, adapt to a new task, and
warm-start a DARTS search from the meta-learned alphas.

Runs on a CPU in about a minute with the tiny settings below (8x8 images, a 2-cell supernet);
for real numbers use 28x28 images, C=16, 4 cells and thousands of meta-steps on a GPU
(see bench/metanas_gpu.py and docs/metanas.md).

    python examples/metanas_omniglot.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse

import torch

from warmnas.nas.meta import MetaNAS, alpha_prior, omniglot_tasks
from warmnas.nas.search import DARTSSearch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="shared data folder (with omniglot/)")
    parser.add_argument("--out", default="metanas_checkpoint", help="checkpoint folder")
    args = parser.parse_args()
    torch.set_num_threads(1)

    # 5-way 1-shot tasks; meta-train and meta-test alphabets are disjoint
    train = omniglot_tasks(args.data_dir, split="train", n_way=5, k_shot=1, q_query=5, size=8)
    test = omniglot_tasks(args.data_dir, split="test", n_way=5, k_shot=1, q_query=5, size=8)

    model = MetaNAS("darts", C=4, layers=2, meta_steps=20, meta_batch_size=4, inner_steps=3,
                    adapt_steps=5, checkpoint_dir=args.out, random_state=0)
    model.fit(train, test)
    print("meta-learned genotype:", model.genotype_)

    # one new task: 5 classes, 1 image each to adapt on, 25 query images (chance: 0.20); one
    # task's accuracy swings widely at these tiny settings, so the mean over 20 follows
    result = model.adapt(test.sample(random_state=1))
    print(f"new task: query accuracy {result.accuracy:.3f} (chance 0.200), "
          f"genotype {result.genotype}")
    ev = model.evaluate(test, n_tasks=20)
    print(f"mean over 20 meta-test tasks: {ev['accuracy']:.3f} +- {ev['ci95']:.3f} "
          "(95 % interval; chance 0.200)")

    # warm-start DARTS on a new dataset from the meta-learned alphas
    prior = alpha_prior(space="darts", metanas=args.out)
    images, labels = test.class_images()
    keep = labels < 10                                     # a 10-class dataset
    search = DARTSSearch("darts", init_alpha=prior, epochs=1, batch_size=16, C=4, layers=2,
                         augment=False, random_state=0)
    search.fit((images[keep].numpy(), labels[keep].numpy()))
    print("DARTS from the prior:", search.genotype_)


if __name__ == "__main__":
    main()
