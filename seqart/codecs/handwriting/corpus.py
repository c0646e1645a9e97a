"""The text the synthetic hand writes: short phrases drawn from a word list.

The word list was written for seqart (everyday English words, no source text
copied) and is under seqart's own MIT licence. Phrases are one to four words
with an occasional capital, number or closing mark, at most `MAX_CHARS`
characters, so a written line stays within a few hundred pen points.

Held-out phrases come from their own seeded stream and never appear among the
training phrases (`training_phrases` skips them), so a model's NLL and its
legibility on them measure text it never saw written.
"""

from __future__ import annotations

import numpy as np

WORDS = tuple("""
a an and as at be by do go he if in is it me my no of on or so to up us we
all any art ask bag bed big box boy bus can car cat cup day dog dry ear eat egg
end eye far few fly fox fun get gun hat her him his hot how ink jam jar joy key
kid lap leg let lid low man map mix mud net new not now oak odd oil old one our
out owl own pan pen pet pig pin pot put ran red run sad saw say sea see set she
sky sun ten the tin top toy two use van war was way wet who why win yes yet you
able back bird blue boat body book call calm card cold come cook dark deep door
down draw each east easy face fair fall farm fast fish five flat food foot fork
four free from full game gate gift girl give glad gold good gray grow hand hard
have head hear help here high hill hold home hope idea into iron jump just keep
kind king lake lamp land last late leaf left life like line lion list live long
look love made mail make many milk mind moon more most move much name near nest
next nice nine note once open over page park past path pink plan play pond poor
quiz rain read rest rich ride ring road rock roof room rope rose safe sail salt
same sand seed send ship shoe shop show side sing slow snow soft song soon star
stay stem step stop such tall tell than that them then they this time tiny told
tree true turn upon very walk wall want warm wash wave well west what when wide
wild will wind wise with wood word work yard year your zero about above after
again apple bread bring brown chair clean clear close cloud dream drink early
earth field first floor fresh fruit glass grass green happy heart horse house
light little lucky money music never night north often paper party piece plant
quiet quick river round seven short small smile sound south spoon stone story
sugar table thing three today tower train under water where white whole window
winter yellow garden letter morning orange pencil people purple silver summer
""".split())
MAX_CHARS = 20
CLOSERS = (".", ",", "!", "?")


def phrase(rng: np.random.Generator) -> str:
    """One phrase of 1-4 words, at most MAX_CHARS characters."""
    while True:
        words = [str(w) for w in rng.choice(WORDS, size=int(rng.integers(1, 5)))]
        if rng.random() < 0.3:
            words[0] = words[0].capitalize()
        if rng.random() < 0.08:
            words.insert(int(rng.integers(0, len(words) + 1)), str(int(rng.integers(1, 1000))))
        text = " ".join(words)
        if rng.random() < 0.2:
            text += CLOSERS[int(rng.integers(len(CLOSERS)))]
        if len(text) <= MAX_CHARS:
            return text


def heldout_phrases(n: int, seed: int) -> list[str]:
    """n distinct phrases from the held-out stream of `seed`."""
    rng, out = np.random.default_rng([seed, 1]), []
    while len(out) < n:
        p = phrase(rng)
        if p not in out:
            out.append(p)
    return out


def training_phrases(n: int, seed: int, heldout: set[str]) -> list[str]:
    """n phrases (repeats allowed) from the training stream of `seed`, none of them in `heldout`."""
    rng, out = np.random.default_rng([seed, 0]), []
    while len(out) < n:
        p = phrase(rng)
        if p not in heldout:
            out.append(p)
    return out
