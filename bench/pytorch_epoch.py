#!/usr/bin/python3
"""One epoch of the seed model in PyTorch, measured the way bench/trainer_epoch.cpp measures Quarry.

The seed model (Keras Tuner's tutorial) as a torch.nn.Sequential: Flatten -> Linear(784, 256) ->
ReLU -> Dropout(0.2) -> Linear(256, 10), Glorot-uniform weights and zero biases (Keras' and
Quarry's initialisation), Adam(lr=1e-3, eps=1e-7: Keras' epsilon, as Quarry uses), cross-entropy
on logits, batch 32. With --net conv, bench/trainer_epoch.cpp's convolutional net instead:
Conv2d(1, 32, 3, padding=1) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(6272, 10), Glorot-uniform
weights and zero biases too, same optimiser, loss and batch. Data: the first 48,000 Fashion-MNIST
training images for training, the next 12,000 for validation, read from the IDX .gz files with
gzip + numpy and scaled to [0, 1].

One epoch does what quarry::nn::fit does for one epoch with validation data, written as the
idiomatic fast PyTorch loop (no DataLoader): a torch.randperm order, batches by index, running
loss and accuracy (loss.item() and the argmax per batch, as fit checks each loss and counts
correct predictions), then model.eval() and torch.no_grad() over the validation rows in batches
of 334 (fit evaluates 2^18 input values at a time: 334 images of 784 pixels).

Threads (--threads):
  pinned      OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 set before torch is imported, plus
              torch.set_num_threads(1): one math thread, as quarry::nn::pin_math_threads() gives
              (Debian's torch hands matrix products to OpenBLAS, whose pool set_num_threads does
              not control). The default.
  torch-only  torch.set_num_threads(1) alone (OpenBLAS keeps its default pool).
  default     neither: PyTorch's and OpenBLAS's defaults.
--flush-denormal: torch.set_flush_denormal(True) as well (values below 1.2e-38 count as zero, as
they do while Quarry trains: quarry::FlushDenormals in quarry/core/cpu.hpp).

Prints one machine-readable line per epoch (bench/trainer.sh reads them), e.g.
  pytorch mode=single pin=pinned model=0 epoch=1 warmup=0 epoch_s=2.46 loss=0.52 accuracy=0.81
          val_loss=0.43 val_accuracy=0.84 faults=1234
(faults: the minor page faults of the training thread during the epoch).

Run it with Debian's interpreter (/usr/bin/python3), which has python3-torch.
"""

import argparse
import gzip
import os
import resource
import sys
import time

# numpy and torch are imported inside the functions, after main() has set the thread variables:
# both load OpenBLAS, which sizes its thread pool when it is loaded.

TRAIN_ROWS = 48000
VALIDATION_ROWS = 12000
BATCH_SIZE = 32
EVALUATION_BATCH = (1 << 18) // 784  # as quarry::nn::fit evaluates
DATA = "/usr/share/datasets/fashion-mnist"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs first (default 1)")
    parser.add_argument("--threads", choices=("pinned", "torch-only", "default"), default="pinned")
    parser.add_argument("--mode", default="single", help="label of the output lines")
    parser.add_argument("--model", type=int, default=0, help="label and seed of this model")
    parser.add_argument("--net", choices=("seed", "conv"), default="seed")
    parser.add_argument("--flush-denormal", action="store_true",
                        help="torch.set_flush_denormal(True): denormal floats count as zero")
    parser.add_argument("--data", default=DATA)
    args = parser.parse_args()
    if args.epochs < 1 or args.warmup < 0:
        parser.error("--epochs must be >= 1 and --warmup >= 0")
    return args


def read_idx(path, header):
    """The unsigned bytes of an IDX file after its `header` bytes (magic number and sizes)."""
    import numpy as np

    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def load(folder):
    import numpy as np
    import torch

    images = read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"), 16)
    labels = read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"), 8)
    x = torch.from_numpy(images.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    end = TRAIN_ROWS + VALIDATION_ROWS
    return (x[:TRAIN_ROWS], y[:TRAIN_ROWS]), (x[TRAIN_ROWS:end], y[TRAIN_ROWS:end])


def make_model(net):
    import torch
    from torch import nn

    if net == "conv":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(32 * 14 * 14, 10)
        )
        weighted = (model[0], model[4])
    else:
        model = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10)
        )
        weighted = (model[1], model[4])
    for layer in weighted:
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    return model, torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)


def train_epoch(model, optimizer, x, y):
    import torch
    import torch.nn.functional as F

    model.train()
    order = torch.randperm(len(y))
    loss_sum, correct = 0.0, 0
    for start in range(0, len(y), BATCH_SIZE):
        rows = order[start : start + BATCH_SIZE]
        xb, yb = x[rows], y[rows]
        output = model(xb)
        loss = F.cross_entropy(output, yb)
        value = loss.item()
        if value != value or value in (float("inf"), float("-inf")):
            sys.exit(f"pytorch_epoch: loss became {value} at batch {start // BATCH_SIZE + 1}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += value * len(yb)
        correct += (output.detach().argmax(1) == yb).sum().item()
    return loss_sum / len(y), correct / len(y)


def evaluate(model, x, y):
    import torch
    import torch.nn.functional as F

    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(y), EVALUATION_BATCH):
            xb, yb = x[start : start + EVALUATION_BATCH], y[start : start + EVALUATION_BATCH]
            output = model(xb)
            loss_sum += F.cross_entropy(output, yb).item() * len(yb)
            correct += (output.argmax(1) == yb).sum().item()
    return loss_sum / len(y), correct / len(y)


def main():
    args = parse_args()
    if args.threads == "pinned":
        # Before torch (and OpenBLAS) is loaded: OpenBLAS sizes its pool when it starts.
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    if args.threads != "default":
        torch.set_num_threads(1)
    if args.flush_denormal and not torch.set_flush_denormal(True):
        sys.exit("pytorch_epoch.py: this CPU cannot flush denormals (torch.set_flush_denormal)")
    torch.manual_seed(args.model)

    start = time.perf_counter()
    (x, y), (val_x, val_y) = load(args.data)
    print(
        f"pytorch load_s={time.perf_counter() - start:.4f} train_rows={len(y)} "
        f"validation_rows={len(val_y)} torch={torch.__version__}",
        flush=True,
    )
    model, optimizer = make_model(args.net)
    for epoch in range(args.warmup + args.epochs):
        faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        start = time.perf_counter()
        loss, accuracy = train_epoch(model, optimizer, x, y)
        val_loss, val_accuracy = evaluate(model, val_x, val_y)
        seconds = time.perf_counter() - start
        faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults
        print(
            f"pytorch mode={args.mode} pin={args.threads} model={args.model} epoch={epoch + 1} "
            f"warmup={int(epoch < args.warmup)} epoch_s={seconds:.4f} loss={loss:.4f} "
            f"accuracy={accuracy:.4f} val_loss={val_loss:.4f} val_accuracy={val_accuracy:.4f} "
            f"faults={faults}",
            flush=True,
        )


if __name__ == "__main__":
    main()
