"""Threads doing different, deterministic work; the main thread joins them."""
import threading

results = {}


def worker(name, n):
    acc = []
    for i in range(n):
        acc.append(i * len(name))
    results[name] = sum(acc)


threads = [threading.Thread(target=worker, args=(f"w{k}", 5 + k)) for k in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(results.items()))
