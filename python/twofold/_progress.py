"""progress=True: a tqdm bar per stage when tqdm is installed, else one line on
stderr per stage and every ten percent."""

import sys


class _Lines:
    def __init__(self):
        self.stage, self.tenth = None, -1

    def __call__(self, e):
        fraction = e["elapsed_seconds"] / max(e["elapsed_seconds"] + e["eta_seconds"], 1e-12)
        tenth = int(10 * fraction)
        if e["stage"] != self.stage or tenth != self.tenth:
            self.stage, self.tenth = e["stage"], tenth
            print(f"twofold: {e['stage']}: {100 * fraction:3.0f} %, eta {e['eta_seconds']:.1f} s",
                  file=sys.stderr, flush=True)

    def close(self):
        pass


class _Tqdm:
    def __init__(self, tqdm):
        self.tqdm, self.bar, self.stage = tqdm, None, None

    def __call__(self, e):
        if e["stage"] != self.stage:
            self.close()
            self.stage = e["stage"]
            self.bar = self.tqdm(total=100, desc=f"twofold {e['stage']}", unit="%", leave=False,
                                 bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")
        fraction = e["elapsed_seconds"] / max(e["elapsed_seconds"] + e["eta_seconds"], 1e-12)
        n = min(100, int(100 * fraction))
        if n != self.bar.n:
            self.bar.update(n - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def default_progress():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines()
    return _Tqdm(tqdm)
