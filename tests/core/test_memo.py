"""core.memo.RecentResults: one computation per key while it lives, a new one for a new key or
after `seconds`, the least recently used dropped beyond `entries`."""

from core.memo import RecentResults


def test_kept_per_key_until_it_expires_or_is_pushed_out():
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return value * 10
        return run

    kept = RecentResults(seconds=600, entries=2)
    assert kept.get_or_compute("a", compute(1)) == 10
    assert kept.get_or_compute("a", compute(99)) == 10 and calls == [1]  # remembered
    assert kept.get_or_compute("b", compute(2)) == 20
    assert kept.get_or_compute("a", compute(99)) == 10  # "a" used last: "b" is the oldest now
    assert kept.get_or_compute("c", compute(3)) == 30  # pushes "b" out
    assert kept.get_or_compute("b", compute(4)) == 40 and calls == [1, 2, 3, 4]
    kept.clear()
    assert kept.get_or_compute("a", compute(5)) == 50

    expired = RecentResults(seconds=0, entries=2)
    expired.get_or_compute("a", compute(6))
    expired.get_or_compute("a", compute(7))
    assert calls[-2:] == [6, 7]
