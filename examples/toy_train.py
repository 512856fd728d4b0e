#!/usr/bin/env python3
"""A stand-in for a training script, to show how Quarry tunes any program.

Quarry runs it once per trial with the trial's hyperparameters on the command line (see
examples/quickstart.yaml). It "trains" for a few epochs and prints one line per epoch and a final
line in Quarry's output protocol:

    quarry: step=<epoch> loss=<value>     # intermediate value: lets Quarry stop a poor trial early
    quarry: loss=<value>                  # the final metric

Everything else it prints is ignored. The loss surface is made up but has a clear optimum:
learning rate near 3e-3, about 256 units, the adam optimizer.
"""
import argparse
import math
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--units", type=int, required=True)
parser.add_argument("--optimizer", choices=["adam", "sgd"], required=True)
parser.add_argument("--momentum", type=float, default=0.0)
parser.add_argument("--epochs", type=int, default=8)
args = parser.parse_args()

final = 0.1 + 0.08 * (math.log10(args.lr) + 2.5) ** 2 + ((args.units - 256) / 400.0) ** 2
if args.optimizer == "sgd":
    final += 0.05 + 0.1 * (0.9 - args.momentum) ** 2

print(f"training with lr={args.lr} units={args.units} optimizer={args.optimizer}")
for epoch in range(1, args.epochs + 1):
    time.sleep(0.02)
    loss = final + 1.5 / epoch
    print(f"quarry: step={epoch} loss={loss:.6f}", flush=True)
print(f"quarry: loss={final + 1.5 / args.epochs:.6f}")
sys.exit(0)
