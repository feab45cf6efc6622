"""The ruin-and-recreate loop, compiled with numba (``optimiser.ruin_recreate`` drives it).

Why compiled: in Python the loop ran about 1,100 iterations a second on a
25 x 150 day, some 10,000 in a 20 s solve, and forward simulation of routes was
over half the time; SISR-class results need ten to a hundred times that. The
loop here is the same algorithm on flat arrays, without the GIL (``nogil``), so
a solve in one API thread does not stall the others.

Every function takes the problem as a ``KernelProblem`` ``P`` (built by
``ruin_recreate.problem_arrays``) and the search state as a ``KernelState`` ``S``.
Routes are rows of ``seq``: model nodes of visits (>= 0) and break markers
``-1 - k`` for the vehicle's break k, exactly as ``optimiser.construct`` writes
them, and priced by the same rules as ``Constructor.cost``, which the tests hold
it to.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


class KernelProblem(NamedTuple):
    """The problem as flat arrays (int64 unless noted); node-indexed unless noted."""

    travel: np.ndarray  # node x node, seconds
    service: np.ndarray
    iv_off: np.ndarray  # allowed start intervals of node i: iv_lo/iv_hi[iv_off[i]:iv_off[i+1]]
    iv_lo: np.ndarray
    iv_hi: np.ndarray
    late_at: np.ndarray  # latest start without SLA cost (int64 max: none)
    late_per: np.ndarray  # cost per second after it
    surcharge: np.ndarray  # vehicle x node, technician surcharge in travel seconds
    start_node: np.ndarray  # vehicle-indexed from here to hard_end
    end_node: np.ndarray
    shift_start: np.ndarray
    shift_end: np.ndarray
    hard_end: np.ndarray
    capacity: np.ndarray  # float64, inf: none
    br_off: np.ndarray  # breaks of vehicle v: br_*[br_off[v]:br_off[v+1]]
    br_min: np.ndarray
    br_max: np.ndarray
    br_dur: np.ndarray
    demand: np.ndarray  # float64
    penalty: np.ndarray  # cost of leaving the visit out
    priority: np.ndarray
    el_off: np.ndarray  # eligible vehicles of node i: el_veh[el_off[i]:el_off[i+1]]
    el_veh: np.ndarray
    near: np.ndarray  # node x k: nearest visits, -1 padded (depot rows all -1)
    frozen: np.ndarray  # bool per vehicle: route left as it is
    weights: np.ndarray  # [travel per second, overtime per second]


class KernelState(NamedTuple):
    """Current routes, this iteration's trial copies and the best plan found."""

    seq: np.ndarray  # vehicle x slot: visits and break markers
    length: np.ndarray
    cost: np.ndarray
    load: np.ndarray  # float64
    route_of: np.ndarray  # node -> vehicle, -1 left out, -2 not a visit
    tseq: np.ndarray  # trial copies of the five above, valid where stamp == counters[0]
    tlen: np.ndarray
    tcost: np.ndarray
    tload: np.ndarray
    troute_of: np.ndarray
    stamp: np.ndarray
    changed: np.ndarray  # vehicles with a trial copy this iteration: changed[:counters[1]]
    counters: np.ndarray  # [iteration, number changed]
    best_seq: np.ndarray
    best_len: np.ndarray
    best_total: np.ndarray  # [cost]
    total: np.ndarray  # [cost of the current plan]


INFEASIBLE = -1
"""A route cost meaning a hard rule is broken (real costs are never negative)."""

BLINK = 0.01
"""Chance of skipping a position while inserting: diversity at almost no cost."""

MAX_STRING = 10
"""Longest string of consecutive visits removed from one route (SISR's L_max)."""

MEAN_REMOVED = 10
"""Visits removed per iteration on average (SISR's c-bar)."""


@njit(cache=True, nogil=True)
def seed_random(seed):
    """Seed numba's generator (its state is per thread, so concurrent solves keep apart)."""
    np.random.seed(seed)


@njit(cache=True, nogil=True)
def route_cost(P, v, seq, n):
    """Objective cost of vehicle ``v`` driving ``seq[:n]``, or INFEASIBLE.

    Earliest starts, each break taken where the technician is; travel, SLA lateness,
    technician surcharges and overtime, all in objective units."""
    travel = P.travel
    service = P.service
    iv_off = P.iv_off
    iv_lo = P.iv_lo
    iv_hi = P.iv_hi
    late_at = P.late_at
    late_per = P.late_per
    surcharge = P.surcharge
    start_node = P.start_node
    end_node = P.end_node
    shift_start = P.shift_start
    shift_end = P.shift_end
    hard_end = P.hard_end
    br_off = P.br_off
    br_min = P.br_min
    br_max = P.br_max
    br_dur = P.br_dur
    weights = P.weights
    busy = False
    for i in range(n):
        if seq[i] >= 0:
            busy = True
            break
    if not busy:
        return 0
    per_s = weights[0]
    place = start_node[v]
    t = shift_start[v]
    travelled = 0
    extra = 0
    for i in range(n):
        item = seq[i]
        if item < 0:
            b = br_off[v] - 1 - item
            begin = max(t, br_min[b])
            if begin > br_max[b]:
                return INFEASIBLE
            t = begin + br_dur[b]
            continue
        leg = travel[place, item]
        arrive = t + leg
        found = False
        start = arrive
        for j in range(iv_off[item], iv_off[item + 1]):
            if arrive <= iv_hi[j]:
                start = max(arrive, iv_lo[j])
                found = True
                break
        if not found:
            return INFEASIBLE
        if start > late_at[item]:
            extra += (start - late_at[item]) * late_per[item]
        extra += surcharge[v, item] * per_s
        travelled += leg
        t = start + service[item]
        place = item
    leg = travel[place, end_node[v]]
    back = t + leg
    if back > hard_end[v]:
        return INFEASIBLE
    travelled += leg
    return travelled * per_s + extra + max(0, back - shift_end[v]) * weights[1]


@njit(cache=True, nogil=True)
def with_breaks(P, v, visits, n, out):
    """Write ``visits[:n]`` with each of ``v``'s breaks where it costs least (one at a
    time, in order) into ``out``; returns (cost, length), cost INFEASIBLE if none fits."""
    br_off = P.br_off
    breaks = br_off[v + 1] - br_off[v]
    length = n
    out[:n] = visits[:n]
    trial = np.empty(n + breaks, dtype=np.int64)
    for k in range(breaks):
        best_cost = INFEASIBLE
        best_at = -1
        for at in range(length + 1):
            trial[:at] = out[:at]
            trial[at] = -1 - k
            trial[at + 1:length + 1] = out[at:length]
            size = length + 1
            for j in range(k + 1, breaks):
                trial[size] = -1 - j
                size += 1
            cost = route_cost(P, v, trial, size)
            if cost != INFEASIBLE and (best_cost == INFEASIBLE or cost < best_cost):
                best_cost = cost
                best_at = at
        if best_at < 0:
            return INFEASIBLE, length
        out[best_at + 1:length + 1] = out[best_at:length].copy()
        out[best_at] = -1 - k
        length += 1
    return route_cost(P, v, out, length), length


@njit(cache=True, nogil=True)
def _own(S, v):
    """Make the trial copy of route ``v`` this iteration's own (copy on first write)."""
    if S.stamp[v] != S.counters[0]:
        S.stamp[v] = S.counters[0]
        S.tseq[v, :] = S.seq[v, :]
        S.tlen[v] = S.length[v]
        S.tcost[v] = S.cost[v]
        S.tload[v] = S.load[v]
        S.changed[S.counters[1]] = v
        S.counters[1] += 1


@njit(cache=True, nogil=True)
def _insert(P, S, node, bounds, cand_v, cand_at, follow, trial, best):
    """Put ``node`` where it adds the least cost (positions skipped at random).

    Positions are tried in order of added travel, a lower bound of the added cost
    (a visit put in can only delay the ones after it); the search stops once that
    bound reaches the best cost found. Returns the vehicle, or -1."""
    travel = P.travel
    surcharge = P.surcharge
    start_node = P.start_node
    end_node = P.end_node
    capacity = P.capacity
    demand = P.demand
    el_off = P.el_off
    el_veh = P.el_veh
    frozen = P.frozen
    weights = P.weights
    seq = S.seq
    length = S.length
    cost = S.cost
    load = S.load
    tseq = S.tseq
    tlen = S.tlen
    tcost = S.tcost
    tload = S.tload
    stamp = S.stamp
    counters = S.counters
    per_s = weights[0]
    count = 0
    for e in range(el_off[node], el_off[node + 1]):
        v = el_veh[e]
        if frozen[v]:
            continue
        own = stamp[v] == counters[0]
        rload = tload[v] if own else load[v]
        if rload + demand[node] > capacity[v]:
            continue
        rseq = tseq[v] if own else seq[v]
        n = tlen[v] if own else length[v]
        fixed = surcharge[v, node]
        follow[n] = end_node[v]  # the next visit at or after each position
        for j in range(n - 1, -1, -1):
            follow[j] = rseq[j] if rseq[j] >= 0 else follow[j + 1]
        before = start_node[v]
        idle = follow[0] == end_node[v]
        for at in range(n + 1):
            after = follow[at]
            if idle:  # one candidate: breaks go in with the visit
                added = travel[before, node] + travel[node, after] - travel[before, after]
                bounds[count] = (added + fixed) * per_s
                cand_v[count] = v
                cand_at[count] = -1
                count += 1
                break
            added = travel[before, node] + travel[node, after] - travel[before, after]
            bounds[count] = (added + fixed) * per_s
            cand_v[count] = v
            cand_at[count] = at
            count += 1
            if at < n and rseq[at] >= 0:
                before = rseq[at]
    order = np.argsort(bounds[:count], kind="mergesort")
    best_delta = 0
    best_v = -1
    best_cost = 0
    best_n = 0
    single = np.empty(1, dtype=np.int64)
    single[0] = node
    for c in order:
        if best_v >= 0 and bounds[c] >= best_delta:
            break
        if np.random.random() < BLINK:
            continue
        v = cand_v[c]
        own = stamp[v] == counters[0]
        if cand_at[c] < 0:
            new_cost, n_new = with_breaks(P, v, single, 1, trial)
            delta = new_cost
        else:
            rseq = tseq[v] if own else seq[v]
            n = tlen[v] if own else length[v]
            at = cand_at[c]
            trial[:at] = rseq[:at]
            trial[at] = node
            trial[at + 1:n + 1] = rseq[at:n]
            n_new = n + 1
            new_cost = route_cost(P, v, trial, n_new)
            delta = new_cost - (tcost[v] if own else cost[v])
        if new_cost != INFEASIBLE and (best_v < 0 or delta < best_delta):
            best_delta = delta
            best_v = v
            best_cost = new_cost
            best_n = n_new
            best[:n_new] = trial[:n_new]
    if best_v < 0:
        return -1
    _own(S, best_v)
    tseq[best_v, :best_n] = best[:best_n]
    tlen[best_v] = best_n
    tcost[best_v] = best_cost
    tload[best_v] += demand[node]
    return best_v


@njit(cache=True, nogil=True)
def _ruin(P, S, removed):
    """Remove strings of visits around a random routed visit (SISR); returns the seed
    visit and the number written to ``removed``, or (-1, 0) when nothing is routed."""
    demand = P.demand
    near = P.near
    frozen = P.frozen
    seq = S.seq
    length = S.length
    route_of = S.route_of
    tseq = S.tseq
    tlen = S.tlen
    tload = S.tload
    troute_of = S.troute_of
    stamp = S.stamp
    counters = S.counters
    routed = 0
    for node in range(route_of.shape[0]):
        if route_of[node] >= 0:
            routed += 1
    if routed == 0:
        return -1, 0
    pick = np.random.randint(0, routed)
    seed = -1
    for node in range(route_of.shape[0]):
        if route_of[node] >= 0:
            if pick == 0:
                seed = node
                break
            pick -= 1
    visits_total = 0
    busy_routes = 0
    for v in range(length.shape[0]):
        if frozen[v]:
            continue
        visits = 0
        for j in range(length[v]):
            if seq[v, j] >= 0:
                visits += 1
        if visits > 0:
            visits_total += visits
            busy_routes += 1
    average = visits_total / max(busy_routes, 1)
    max_string = max(1, min(MAX_STRING, int(average)))
    max_routes = max(1, int(4 * MEAN_REMOVED / (1 + max_string)) - 1)
    ruined_routes = np.random.randint(1, max_routes + 1)
    touched = 0
    count = 0
    positions = np.empty(seq.shape[1], dtype=np.int64)
    for k in range(near.shape[1]):
        node = near[seed, k]
        if touched >= ruined_routes or node < 0:
            break
        v = troute_of[node]
        if v < 0 or stamp[v] == counters[0] or frozen[v]:
            continue
        touched += 1
        _own(S, v)
        visits = 0
        at = 0
        for j in range(tlen[v]):
            if tseq[v, j] >= 0:
                if tseq[v, j] == node:
                    at = visits
                positions[visits] = j
                visits += 1
        string = np.random.randint(1, min(max_string, visits) + 1)
        first = np.random.randint(max(0, at - string + 1), min(at, visits - string) + 1)
        cut_from = positions[first]
        cut_to = positions[first + string - 1]
        kept = 0
        for j in range(tlen[v]):
            item = tseq[v, j]
            if cut_from <= j <= cut_to and item >= 0:
                removed[count] = item
                count += 1
                troute_of[item] = -1
                tload[v] -= demand[item]
            else:
                tseq[v, kept] = item
                kept += 1
        tlen[v] = kept
    return seed, count


@njit(cache=True, nogil=True)
def run(P, S, iterations, threshold):
    """``iterations`` ruin-and-recreate steps; each result is kept when it costs less
    than the current plan plus ``threshold``. Returns how many were kept."""
    penalty = P.penalty
    priority = P.priority
    near = P.near
    seq = S.seq
    length = S.length
    cost = S.cost
    load = S.load
    route_of = S.route_of
    tseq = S.tseq
    tlen = S.tlen
    tcost = S.tcost
    tload = S.tload
    troute_of = S.troute_of
    changed = S.changed
    counters = S.counters
    best_seq = S.best_seq
    best_len = S.best_len
    best_total = S.best_total
    total = S.total
    nodes = route_of.shape[0]
    removed = np.empty(nodes, dtype=np.int64)
    pool = np.empty(nodes, dtype=np.int64)
    in_pool = np.zeros(nodes, dtype=np.bool_)
    keys = np.empty(nodes, dtype=np.float64)
    slots = seq.shape[0] * (seq.shape[1] + 1)
    bounds = np.empty(slots, dtype=np.int64)
    cand_v = np.empty(slots, dtype=np.int64)
    cand_at = np.empty(slots, dtype=np.int64)
    follow = np.empty(seq.shape[1] + 1, dtype=np.int64)
    trial = np.empty(seq.shape[1], dtype=np.int64)
    best = np.empty(seq.shape[1], dtype=np.int64)
    kept = 0
    for _ in range(iterations):
        counters[0] += 1
        counters[1] = 0
        troute_of[:] = route_of
        seed, count = _ruin(P, S, removed)
        broken = False
        for c in range(counters[1]):
            v = changed[c]
            tcost[v] = route_cost(P, v, tseq[v], tlen[v])
            if tcost[v] == INFEASIBLE:  # a travel matrix without the triangle inequality
                broken = True
        if broken:
            continue
        size = 0
        for c in range(count):
            pool[size] = removed[c]
            in_pool[removed[c]] = True
            size += 1
        if seed >= 0:  # left-out visits near the ruined area get their chance too
            for k in range(near.shape[1]):
                node = near[seed, k]
                if node >= 0 and troute_of[node] == -1 and not in_pool[node]:
                    pool[size] = node
                    in_pool[node] = True
                    size += 1
        for c in range(size):
            keys[c] = priority[pool[c]] + np.random.random()
        order = np.argsort(keys[:size])
        delta = 0
        for c in order:
            node = pool[c]
            in_pool[node] = False
            v = _insert(P, S, node, bounds, cand_v, cand_at, follow, trial, best)
            if v >= 0:
                troute_of[node] = v
            elif route_of[node] >= 0:
                delta += penalty[node]
            if v >= 0 and route_of[node] < 0:
                delta -= penalty[node]
        for c in range(counters[1]):
            v = changed[c]
            delta += tcost[v] - cost[v]
        if delta >= threshold:
            continue
        kept += 1
        for c in range(counters[1]):
            v = changed[c]
            seq[v, :] = tseq[v, :]
            length[v] = tlen[v]
            cost[v] = tcost[v]
            load[v] = tload[v]
        route_of[:] = troute_of
        total[0] += delta
        if total[0] < best_total[0]:
            best_total[0] = total[0]
            best_seq[:, :] = seq
            best_len[:] = length
    return kept
