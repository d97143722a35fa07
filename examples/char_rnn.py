"""Train a small character-level language model on the Zen of Python (``import this``, which
ships with Python: no download) and generate text from it.

The model: an ``Embedding`` of the characters, a ``LSTM``, a ``LayerNorm`` and a ``Linear``
read-out, trained with Adam under a cosine learning-rate schedule on random windows of the
text. Run: ``python examples/char_rnn.py [--device cpu|cuda] [--steps N] [--seed S] [--torch]``.
``--torch`` runs the very same program with PyTorch (the only change is the import), on the
same batches, so the two loss curves can be compared. Prints a plain-text progress bar with
the loss, a loss curve (the mean loss per tenth of training) and a sample.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import importlib
import io
import time
from typing import Any

import numpy as np


def zen_of_python() -> str:
    with contextlib.redirect_stdout(io.StringIO()):  # importing ``this`` prints the Zen
        this = importlib.import_module("this")
    return codecs.decode(this.s, "rot13")


def make_model(lib: Any, vocab: int, embed: int = 32, hidden: int = 128) -> Any:
    nn = lib.nn

    class CharModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, embed)
            self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            self.norm = nn.LayerNorm(hidden)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, idx: Any, state: Any = None) -> tuple:
            out, state = self.lstm(self.embed(idx), state)
            return self.head(self.norm(out)), state

    return CharModel()


def bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // total
    return "[" + "#" * filled + "." * (width - filled) + f"] {done:>{len(str(total))}}/{total}"


def sample(lib: Any, model: Any, stoi: dict, itos: list, device: str, prompt: str, length: int,
           rng: np.random.Generator, temperature: float = 0.5) -> str:
    """Continue ``prompt`` one character at a time, carrying the LSTM state."""
    model.eval()
    out = prompt
    with lib.no_grad():
        logits, state = model(lib.tensor([[stoi[c] for c in prompt]], device=device))
        for _ in range(length):
            p = lib.softmax(logits[0, -1] / temperature, 0).cpu().numpy().astype(np.float64)
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out += itos[nxt]
            logits, state = model(lib.tensor([[nxt]], device=device), state)
    model.train()
    return out


def train(lib: Any, device: str = "cpu", steps: int = 200, seed: int = 0, batch: int = 32, window: int = 48,
          lr: float = 1e-2, progress: bool = True) -> dict:
    text = zen_of_python()
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    lib.manual_seed(seed)
    rng = np.random.default_rng(seed)  # the batches: the same for either library
    model = make_model(lib, len(itos)).to(device)
    opt = lib.optim.Adam(model.parameters(), lr=lr)
    sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    losses = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        starts = rng.integers(0, len(data) - window - 1, size=batch)
        chunk = np.stack([data[s:s + window + 1] for s in starts])
        x = lib.tensor(chunk[:, :-1], device=device)
        y = lib.tensor(chunk[:, 1:], device=device)
        logits, _ = model(x)
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, len(itos)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if progress and (step % max(1, steps // 30) == 0 or step == steps):
            print(f"\r{bar(step, steps)} loss {losses[-1]:.3f}", end="", flush=True)
    if progress:
        print()
    seconds = time.perf_counter() - start
    text_out = sample(lib, model, stoi, itos, device, "Beautiful", 200, np.random.default_rng(seed))
    tenth = max(1, steps // 10)
    curve = [float(np.mean(losses[i:i + tenth])) for i in range(0, steps, tenth)]
    return {"losses": losses, "curve": curve, "seconds": seconds, "sample": text_out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch", action="store_true", help="run the same program with PyTorch")
    args = parser.parse_args()
    lib = importlib.import_module("torch" if args.torch else "autodiff")
    try:  # a device that is not there: one clear line saying what is missing, no traceback
        lib.zeros(1, device=args.device)
    except (RuntimeError, AssertionError) as exc:
        parser.error(str(exc))
    r = train(lib, args.device, args.steps, args.seed)
    print(f"{lib.__name__} on {args.device}: {args.steps} steps in {r['seconds']:.1f} s, "
          f"final loss {np.mean(r['losses'][-10:]):.3f}")
    print("loss curve (mean per tenth):", " ".join(f"{v:.3f}" for v in r["curve"]))
    print("sample:")
    print(r["sample"])


if __name__ == "__main__":
    main()
