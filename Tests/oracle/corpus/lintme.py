import os
import sys
from collections import OrderedDict


def unused_local(items):
    total = 0
    for item in items:
        count = len(item)
    return undefined_name + total


class Shape:
    sides = 0

    def area(self):
        return self.width * self.height


def f(x, y=[]):
    y.append(x)
    return y if x else sys.argv
