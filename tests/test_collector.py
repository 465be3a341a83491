"""The collector's bulk pace is scoped: the caller's thresholds and frozen set come back."""
import gc

from qcdc_xl.collector import BULK_THRESHOLD, bulk_work


def test_bulk_work_restores_the_callers_pace_even_after_an_error():
    gc.set_threshold(700, 10, 10)
    try:
        try:
            with bulk_work():
                assert gc.get_threshold() == BULK_THRESHOLD
                assert gc.get_freeze_count() > 0  # what was alive is set aside
                raise ValueError("a failure inside")
        except ValueError:
            pass
        assert gc.get_threshold() == (700, 10, 10)
        assert gc.get_freeze_count() == 0
    finally:
        gc.set_threshold(700, 10, 10)


def test_cycles_made_during_bulk_work_are_still_collected():
    class Node:
        pass

    import weakref
    with bulk_work():
        a, b = Node(), Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        assert alive() is None
