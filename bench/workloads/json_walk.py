"""JSON round trips with a Python-level walker: build documents, dump, load, walk and transform."""
import json
import sys


def make_order(i):
    return {
        "id": i,
        "customer": {"name": f"customer-{i % 97}", "tier": ["gold", "silver", "bronze"][i % 3]},
        "items": [{"sku": f"SKU{(i * 7 + k) % 500:04d}", "qty": (i + k) % 5 + 1, "price": round(1.25 * ((i + k) % 40 + 1), 2)}
                  for k in range(i % 4 + 1)],
        "tags": [t for t in ("rush", "gift", "fragile", "bulk") if (i >> len(t)) % 2],
        "paid": i % 3 != 0,
    }


def walk(node, path, stats):
    if isinstance(node, dict):
        for key, value in node.items():
            walk(value, path + (key,), stats)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            walk(value, path + (index,), stats)
    else:
        kind = type(node).__name__
        stats[kind] = stats.get(kind, 0) + 1
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            stats["sum"] = stats.get("sum", 0) + node


def total(order):
    amount = 0.0
    for item in order["items"]:
        amount += item["qty"] * item["price"]
    if order["customer"]["tier"] == "gold":
        amount *= 0.9
    return round(amount, 2)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 70
    orders = [make_order(i) for i in range(400)]
    stats = {}
    grand = 0.0
    for r in range(rounds):
        text = json.dumps({"round": r, "orders": orders}, sort_keys=True)
        data = json.loads(text)
        walk(data, (), stats)
        for order in data["orders"]:
            order["total"] = total(order)
            grand += order["total"]
        orders = data["orders"]
    print(f"stats={sorted((k, round(v, 2)) for k, v in stats.items())} grand={grand:.2f} size={len(text)}")


main()
