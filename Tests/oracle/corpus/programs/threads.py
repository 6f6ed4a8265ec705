"""Threads doing different, deterministic work; the main thread joins them.

The workers run at the same time as each other and as the main thread's start loop, so nothing
the main thread's frames hold may change under them: a change would be seen at whichever of the
main thread's lines it fell between, which differs from run to run (and the reference recorder's
run is another run). So the results go to a module global that only the module's frame holds,
and that frame is inside main() until every worker has been joined; and Worker.run, unlike
Thread.run, never changes the Thread object it belongs to.
"""
import threading

results = [None] * 3  # one slot per worker: a dict would be in the order they finish


class Worker(threading.Thread):
    def __init__(self, slot, label, n):
        super().__init__()
        self.slot, self.label, self.n = slot, label, n

    def run(self):
        acc = []
        for i in range(self.n):
            acc.append(i * len(self.label))
        results[self.slot] = (self.label, sum(acc))


def main():
    threads = [Worker(k, f"w{k}", 5 + k) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


main()
print(results)
