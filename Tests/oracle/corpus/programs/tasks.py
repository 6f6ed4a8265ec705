"""asyncio with many tasks: pode records each coroutine's suspensions and resumptions."""
import asyncio


async def fetch(i):
    await asyncio.sleep(0)
    value = i * i
    await asyncio.sleep(0)
    return value


async def main():
    results = await asyncio.gather(*(fetch(i) for i in range(20)))
    total = sum(results)
    return total


print(asyncio.run(main()))
