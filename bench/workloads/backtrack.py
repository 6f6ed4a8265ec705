"""Recursion and backtracking: N-queens counting and a sudoku solver with constraint sets."""
import sys


def queens(n):
    solutions = 0
    cols, diag1, diag2 = set(), set(), set()

    def place(row):
        nonlocal solutions
        if row == n:
            solutions += 1
            return
        for col in range(n):
            if col in cols or (row + col) in diag1 or (row - col) in diag2:
                continue
            cols.add(col)
            diag1.add(row + col)
            diag2.add(row - col)
            place(row + 1)
            cols.remove(col)
            diag1.remove(row + col)
            diag2.remove(row - col)

    place(0)
    return solutions


PUZZLE = (
    "8........"
    "..36....."
    ".7..9.2.."
    ".5...7..."
    "....457.."
    "...1...3."
    "..1....68"
    "..85...1."
    ".9....4.."
)


def solve_sudoku(grid):
    rows = [set() for _ in range(9)]
    cols = [set() for _ in range(9)]
    boxes = [set() for _ in range(9)]
    empty = []
    for i, ch in enumerate(grid):
        r, c = divmod(i, 9)
        if ch == ".":
            empty.append((r, c))
        else:
            d = int(ch)
            rows[r].add(d)
            cols[c].add(d)
            boxes[(r // 3) * 3 + c // 3].add(d)
    cells = list(grid)
    steps = 0

    def search(k):
        nonlocal steps
        if k == len(empty):
            return True
        r, c = empty[k]
        b = (r // 3) * 3 + c // 3
        for d in range(1, 10):
            steps += 1
            if d in rows[r] or d in cols[c] or d in boxes[b]:
                continue
            rows[r].add(d)
            cols[c].add(d)
            boxes[b].add(d)
            cells[r * 9 + c] = str(d)
            if search(k + 1):
                return True
            rows[r].remove(d)
            cols[c].remove(d)
            boxes[b].remove(d)
            cells[r * 9 + c] = "."
        return False

    search(0)
    return "".join(cells), steps


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    total = queens(n)
    solved, steps = solve_sudoku(PUZZLE)
    checksum = (total * 1000003 + steps + sum(ord(c) * (i + 1) for i, c in enumerate(solved))) % 1000000007
    print(f"queens({n})={total} sudoku_steps={steps} checksum={checksum}")


main()
