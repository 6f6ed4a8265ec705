"""A class-heavy discrete-event simulation: a bank with tellers, customers as generators, a heap of events."""
import heapq
import sys


class Rng:
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return (self.state >> 33) / float(1 << 31)


class Customer:
    def __init__(self, ident, arrival, work):
        self.ident = ident
        self.arrival = arrival
        self.work = work
        self.waited = 0.0

    def __lt__(self, other):
        return self.ident < other.ident


class Teller:
    def __init__(self, name):
        self.name = name
        self.busy_until = 0.0
        self.served = 0


class Bank:
    def __init__(self, tellers, rng):
        self.tellers = [Teller(f"teller-{i}") for i in range(tellers)]
        self.queue = []
        self.events = []
        self.rng = rng
        self.clock = 0.0
        self.log = []

    def schedule(self, when, action, payload):
        heapq.heappush(self.events, (when, len(self.log), action, payload))
        self.log.append(action)

    def arrivals(self, count):
        t = 0.0
        for i in range(count):
            t += self.rng.next() * 2.6
            yield Customer(i, t, 1.0 + self.rng.next() * 5.0)

    def free_teller(self):
        best = None
        for teller in self.tellers:
            if teller.busy_until <= self.clock and (best is None or teller.served < best.served):
                best = teller
        return best

    def run(self, count):
        for customer in self.arrivals(count):
            self.schedule(customer.arrival, "arrive", customer)
        waits = []
        while self.events:
            when, _, action, customer = heapq.heappop(self.events)
            self.clock = when
            if action == "arrive":
                self.queue.append(customer)
            teller = self.free_teller()
            while teller is not None and self.queue:
                current = self.queue.pop(0)
                current.waited = self.clock - current.arrival
                waits.append(current.waited)
                teller.busy_until = self.clock + current.work
                teller.served += 1
                self.schedule(teller.busy_until, "done", current)
                teller = self.free_teller()
        return waits


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 80000
    bank = Bank(3, Rng(7))
    waits = bank.run(count)
    served = [t.served for t in bank.tellers]
    print(f"customers={len(waits)} served={served} mean_wait={sum(waits) / len(waits):.4f} max_wait={max(waits):.4f}")


main()
