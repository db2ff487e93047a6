"""helpers.deadline: total deadlines, the one bounded retry loop, and calls abandoned on time."""

from __future__ import annotations

import threading
import time

import pytest

from helpers.deadline import DEFAULT_TIMEOUT, MAX_ATTEMPTS, Deadline, Transient, run_with_deadline, with_retries
from helpers.errors import ArchiveError, CloudInputError, DeadlineError


def test_deadline_defaults_to_the_documented_timeout():
    deadline = Deadline(None, "fetching s3://bucket/key")
    assert deadline.seconds == DEFAULT_TIMEOUT == 300.0
    assert DEFAULT_TIMEOUT - 1 < deadline.remaining() <= DEFAULT_TIMEOUT
    assert not deadline.expired()
    assert deadline.cap(10.0) == 10.0


def test_an_expired_deadline_raises_a_deadline_error_naming_the_call():
    deadline = Deadline(0.05, "fetching s3://bucket/key")
    time.sleep(0.06)
    assert deadline.expired()
    assert deadline.cap(10.0) == 0.001
    with pytest.raises(DeadlineError, match=r"fetching s3://bucket/key did not finish within its 0\.05 s deadline"):
        deadline.check()
    error = deadline.error()
    assert isinstance(error, TimeoutError) and isinstance(error, ArchiveError) and isinstance(error, OSError)


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), "soon", [1]])
def test_bad_timeouts_are_input_errors(seconds):
    with pytest.raises(CloudInputError, match="timeout must be"):
        Deadline(seconds)


def test_with_retries_returns_after_transient_failures():
    calls = []

    def flaky():
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise Transient("503 SlowDown", url="s3://bucket/key")
        return b"payload"

    assert with_retries(flaky, "GET s3://bucket/key", Deadline(10)) == b"payload"
    assert len(calls) == 3
    pauses = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert pauses[0] >= 0.25 and pauses[1] >= 0.5  # the documented back-off


def test_with_retries_gives_up_after_max_attempts_naming_what_failed():
    calls = []

    def always():
        calls.append(1)
        raise Transient("s3://bucket/key: SlowDown (503)", url="s3://bucket/key")

    began = time.monotonic()
    with pytest.raises(ArchiveError, match=r"GET s3://bucket/key failed after 4 tries: .*SlowDown") as caught:
        with_retries(always, "GET s3://bucket/key", Deadline(10))
    assert len(calls) == MAX_ATTEMPTS == 4
    assert caught.value.url == "s3://bucket/key"
    assert not isinstance(caught.value, DeadlineError)
    assert 1.75 <= time.monotonic() - began < 3.0  # 0.25 + 0.5 + 1 s of back-off


def test_with_retries_passes_other_errors_through_at_once():
    calls = []

    def missing():
        calls.append(1)
        raise FileNotFoundError("no such key")

    with pytest.raises(FileNotFoundError):
        with_retries(missing, "GET s3://bucket/key", Deadline(10))
    assert calls == [1]


def test_with_retries_stops_at_the_deadline_rather_than_sleeping_past_it():
    calls = []

    def always():
        calls.append(1)
        raise Transient("503", url="s3://bucket/key")

    began = time.monotonic()
    with pytest.raises(DeadlineError, match="GET s3://bucket/key"):
        with_retries(always, "GET s3://bucket/key", Deadline(0.6, "GET s3://bucket/key"))
    assert time.monotonic() - began < 0.7
    assert len(calls) == 2  # the 0.5 s pause after the second try would pass the deadline


def test_run_with_deadline_returns_the_value_or_the_error():
    assert run_with_deadline(lambda: 42, Deadline(5)) == 42
    with pytest.raises(KeyError, match="inner"):
        run_with_deadline(lambda: {}["inner"], Deadline(5))


def test_run_with_deadline_gives_up_on_time_and_leaves_the_call_to_finish():
    finished = threading.Event()

    def stuck():
        time.sleep(1.5)
        finished.set()
        return "late"

    began = time.monotonic()
    with pytest.raises(DeadlineError, match="a stuck call did not finish within its 0.3 s deadline"):
        run_with_deadline(stuck, Deadline(0.3, "a stuck call"))
    assert 0.3 <= time.monotonic() - began < 0.6
    assert not finished.is_set()
    assert finished.wait(3)  # the abandoned daemon thread still ends on its own


def test_throttling_is_tried_more_often_six_slowdowns_then_success_succeed(quick_backoff):
    """Six SlowDowns, then the data: the pauses follow BACKOFF (a tenth of it here; the test below waits the
    real 5.75 s)."""
    from helpers.deadline import BACKOFF, THROTTLED_ATTEMPTS

    calls = []

    def throttled_six_times():
        calls.append(time.monotonic())
        if len(calls) <= 6:
            raise Transient("s3://bucket/key: SlowDown (503)", url="s3://bucket/key", throttled=True)
        return b"payload"

    assert with_retries(throttled_six_times, "GET s3://bucket/key", Deadline(30)) == b"payload"
    assert len(calls) == 7 < THROTTLED_ATTEMPTS == 8
    pauses = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert BACKOFF == (0.025, 0.05, 0.1)  # the documented 0.25, 0.5, 1 s, a tenth
    assert pauses[0] >= BACKOFF[0] and pauses[1] >= BACKOFF[1] and min(pauses[2:]) >= BACKOFF[2]


def test_persistent_throttling_fails_after_eight_tries_within_ten_seconds(quick_backoff):
    """Eight tries and seven pauses: 0.25 + 0.5 + 5 x 1 s = 5.75 s with the real BACKOFF (a tenth here;
    the real pauses are waited in the four-try tests above and below)."""
    from helpers.deadline import BACKOFF

    calls = []

    def always():
        calls.append(1)
        raise Transient("s3://bucket/key: SlowDown (503)", url="s3://bucket/key", throttled=True)

    began = time.monotonic()
    with pytest.raises(ArchiveError, match=r"GET s3://bucket/key failed after 8 tries: .*SlowDown"):
        with_retries(always, "GET s3://bucket/key", Deadline(30))
    assert len(calls) == 8
    pauses = BACKOFF[0] + BACKOFF[1] + 5 * BACKOFF[2]
    assert pauses == pytest.approx(0.575) and pauses <= time.monotonic() - began < pauses + 1.0


def test_a_plain_failure_after_throttling_ends_at_the_plain_bound():
    """The bound follows the last failure: throttling does not buy a 500 eight tries."""
    kinds = iter([True, True, True, False, False, False, False, False])
    calls = []

    def mixed():
        calls.append(1)
        raise Transient("500 or 503", url="s3://bucket/key", throttled=next(kinds))

    with pytest.raises(ArchiveError, match="failed after 4 tries"):
        with_retries(mixed, "GET s3://bucket/key", Deadline(30))
    assert len(calls) == 4
