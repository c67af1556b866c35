"""The SDK poll patches, on a module shaped like `sagemaker.session`: waits are capped, and a log tail
describes the job at every poll instead of every 30 s of its clock — a timeout stays real time."""

from __future__ import annotations

import time
import types

from sagelocal.compat import sdk_polls


def session_module() -> types.ModuleType:
    module = types.ModuleType("fake_session")
    module.time = time  # type: ignore[attr-defined]

    def _wait_until(callable_fn, poll=5):  # type: ignore[no-untyped-def]
        module.time.sleep(poll)
        return callable_fn()

    def _logs_for_job(session, job_name, wait=False, poll=10, log_type="All", timeout=None):  # type: ignore[no-untyped-def]
        # the SDK's loop: describe only when 30 s have passed on the module's clock
        end = module.time.time() + timeout if timeout else None
        last, describes = module.time.time(), 0
        while describes < 3:
            if end and module.time.time() > end:
                return ("timeout", describes)
            module.time.sleep(poll)
            if module.time.time() - last >= 30:
                describes, last = describes + 1, module.time.time()
        return ("done", describes)

    module._wait_until = _wait_until  # type: ignore[attr-defined]
    module._logs_for_job = _logs_for_job  # type: ignore[attr-defined]
    return module


def test_waits_are_capped_and_log_tails_describe_every_poll(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SAGELOCAL_SDK_POLL_SECONDS", "0.01")
    module = session_module()
    assert sorted(sdk_polls.patch(module, "sagemaker.session")) == [
        "sagemaker.session._logs_for_job",
        "sagemaker.session._wait_until",
    ]
    started = time.monotonic()
    assert module._wait_until(lambda: "ok", 30) == "ok"
    assert module._logs_for_job(None, "job", True) == ("done", 3)  # 3 describes: ~90 s unpatched
    assert time.monotonic() - started < 2
    assert abs(module.time.time() - time.time()) < 1, "outside a tail the clock is the real one"


def test_a_tail_with_a_timeout_keeps_real_time(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SAGELOCAL_SDK_POLL_SECONDS", "0.01")
    module = session_module()
    sdk_polls.patch(module, "sagemaker.session")
    started = time.monotonic()
    outcome, _ = module._logs_for_job(None, "job", True, timeout=0.3)
    assert outcome == "timeout" and time.monotonic() - started >= 0.3


def test_patching_twice_wraps_once() -> None:
    module = session_module()
    sdk_polls.patch(module, "sagemaker.session")
    wrapped = module._wait_until
    sdk_polls.patch(module, "sagemaker.session")
    assert module._wait_until is wrapped
