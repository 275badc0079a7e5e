"""Erlang-B blocking probability, the analytical check of the station's loss behaviour.

For ``S`` servers, Poisson arrivals and offered load ``A`` = arrival rate x mean service time
[erlang], with no waiting room, the share of arrivals that find every server busy is

    B(0, A) = 1,    B(n, A) = A B(n - 1, A) / (n + A B(n - 1, A)),

and it does not depend on the service-time distribution beyond its mean (insensitivity of the
M/G/S/S queue). A. K. Erlang, "Solution of some problems in the theory of probabilities of
significance in automatic telephone exchanges", Elektroteknikeren 13 (1917); the insensitivity
is B. A. Sevastyanov, Theory Probab. Appl. 2 (1957) 104, doi:10.1137/1102005.
"""

from __future__ import annotations

from .. import checks
from ..citations import register


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability [-] of an M/G/S/S loss system (stable recursion above).

    servers : number of servers S (here packs, each with its own charger) [-], >= 0.
    offered_load : A = arrival rate x mean service time [erlang], >= 0.
    """
    register("Erlang1917", "A. K. Erlang, Elektroteknikeren 13 (1917) 5; insensitivity: "
             "B. A. Sevastyanov, Theory Probab. Appl. 2 (1957) 104, doi:10.1137/1102005")
    a = checks.finite_scalar("offered_load", offered_load, low=0.0, unit="erlang")
    n = checks.integer("servers", servers, low=0)
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b
