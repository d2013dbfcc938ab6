"""The kit's seeded generator (lib/engine/random.ts) in Python, shared by the reference scripts so
they make exactly the kit's train/test splits."""

M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


class KitRng:
    """sfc32 seeded through splitmix32, as lib/engine/random.ts `Rng` (only what the split needs)."""

    def __init__(self, seed):
        s = seed & M32  # seeds here are small non-negative integers

        def splitmix():
            nonlocal s
            s = (s + 0x9E3779B9) & M32
            z = s
            z = _imul(z ^ (z >> 16), 0x85EBCA6B)
            z = _imul(z ^ (z >> 13), 0xC2B2AE35)
            return (z ^ (z >> 16)) & M32

        self.a, self.b, self.c, self.d = splitmix(), splitmix(), splitmix(), splitmix()
        for _ in range(12):
            self.next_u32()

    def next_u32(self):
        out = (self.a + self.b + self.d) & M32
        self.d = (self.d + 1) & M32
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + (self.c << 3)) & M32
        self.c = ((self.c << 21) | (self.c >> 11)) & M32
        self.c = (self.c + out) & M32
        return out

    def below(self, n):
        """Uniform integer in [0, n) by rejection (no modulo bias)."""
        limit = 2**32 - (2**32 % n)
        while True:
            r = self.next_u32()
            if r < limit:
                return r % n

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.below(i + 1)
            p[i], p[j] = p[j], p[i]
        return p
