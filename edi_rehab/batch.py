"""Batch runs: many inputs, worker processes, results in input order. No I/O here.

Theory of operation
-------------------
``check`` and ``validate`` over many files (or one large file) with ``--jobs N``. The
command line opens the inputs; this module cuts each one into :class:`Work` items, runs
them in worker processes and puts the results back in order.

1. :func:`plan_input` turns one input (its byte chunks, as the command line reads them)
   into a sequence of :class:`Work` items, lazily. A work item is either a value known
   already or a call of a top-level function on one argument (picklable: bytes, a list of
   :class:`~edi_rehab.x12.stream.Transaction`, a chunk text). How an input is cut:

   * ``jobs=1`` (inline): streamed; consecutive transactions are checked in this process in
     batches of about :data:`CHECK_BATCH_BYTES` as they are read, exactly as a plain
     ``check`` does. Batching matters for files of many small transaction sets: one work
     item per transaction cost about a seventh of check's time on 5,000 one-claim sets.
   * parallel, an input of at most :data:`SPLIT_CHECK_BYTES`: the whole input goes to one
     worker (:func:`check_whole`). Many small files keep every worker busy.
   * parallel, a larger input or standard input: this process reads the stream, checks
     the envelope events (ISA, GS, GE, IEA, end of input) itself and sends consecutive
     transactions in batches of about :data:`CHECK_BATCH_BYTES` (:func:`check_transactions`),
     smaller for the first ones and near the end of a file (:func:`worker_batch_limit`).
     A transaction carries its raw bytes, delimiters, ISA and GS and absolute segment
     positions, so a worker needs nothing else and its findings point into the original
     file. NCCI pairs and MUEs are scoped to one transaction set (engine decision 4), so
     the findings are those of a whole-file check.
   * validation (``validate``, ``check --validate``): the whole input in one worker
     (:func:`validate_whole`, pyx12's own 999), or, parallel and at least
     :data:`SPLIT_VALIDATE_BYTES`, split by transaction with
     :func:`~edi_rehab.validate.plan_validation`: one work item per chunk, then the plan
     (chunk texts dropped), on which :func:`collect` calls
     :func:`~edi_rehab.validate.assemble`.

2. :func:`run_in_order` submits the calls to an executor (or runs them inline when there is
   none): ``check`` gives it a :class:`ForkPool` on Linux, which forks its workers without
   importing ``concurrent.futures``, a ``ProcessPoolExecutor`` elsewhere. It yields
   ``(work, value)`` in the order the work items were planned: input
   order, and byte order inside an input. At most ``window`` calls are unfinished at a
   time, and the plan is only read ahead that far, so a large input is never held whole.
3. :func:`collect` folds the ordered values into per-input :class:`InputResult` values,
   streaming check findings as they come (:class:`Findings`) unless the input was also
   validated, in which case its findings are buffered and merged with the IG findings in
   segment order.

Invariants:

1. The findings do not depend on ``jobs`` or on how an input was cut (``tests/test_batch.py``
   compares ``--jobs 2`` with ``--jobs 1``).
2. Results come back in input order, whatever order the workers finish in.
3. Minutes references stay right across processes: every result names the claims it saw
   that the minutes table names (:attr:`CheckPiece.seen_claims`); the caller hands them to
   its own checker (:func:`note_seen_claims`) before calling ``minutes_findings()`` once.
4. A worker that dies or fails surfaces as :class:`WorkerFailed`, naming the input.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .findings import Finding, Severity
from .x12 import EndOfInput, Transaction, X12ReadError
from .x12.document import iter_events

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Executor, Future

    from .engine import Checker
    from .ig import IgFilter
    from .mapdata import MueEdit, PtpEdit
    from .minutes import MinutesTable
    from .validate import ValidationResult

__all__ = [
    "SPLIT_CHECK_BYTES",
    "CHECK_BATCH_BYTES",
    "SPLIT_VALIDATE_BYTES",
    "InputFailure",
    "WorkerFailed",
    "CheckRecipe",
    "CheckPiece",
    "Work",
    "Findings",
    "InputResult",
    "start_worker",
    "ForkPool",
    "PoolBroken",
    "CallFailed",
    "check_whole",
    "check_transactions",
    "worker_batch_limit",
    "validate_whole",
    "note_seen_claims",
    "plan_input",
    "run_in_order",
    "collect",
    "check_status",
    "summary_table",
    "why_not_validated",
]

#: Parallel check: inputs up to this size go whole to one worker; larger ones are read here
#: and split by transaction.
SPLIT_CHECK_BYTES = 4 << 20
#: Parallel check: consecutive transactions are sent to a worker in batches of about this
#: many bytes (a transaction is never cut).
CHECK_BATCH_BYTES = 1 << 20
#: Parallel validation: inputs of at least this size are split by transaction (two chunks
#: of :data:`~edi_rehab.validate.DEFAULT_MIN_CHUNK_BYTES` at least).
SPLIT_VALIDATE_BYTES = 256 << 10


class InputFailure(Exception):
    """An input that could not be read (the caller's I/O error); ``str()`` is the message."""


class WorkerFailed(Exception):
    """A worker process died, or failed in a way that is not a finding.

    Attributes:
        file: index of the input it was working on.
    """

    def __init__(self, file: int, message: str) -> None:
        super().__init__(message)
        self.file = file


# -- the checker, rebuilt in each worker ------------------------------------------------------
@dataclass(frozen=True)
class CheckRecipe:
    """Everything a worker needs to build the same :class:`~edi_rehab.engine.Checker` as the
    parent, in picklable form (the parsed maps and config hold mapping proxies, which do not
    pickle; the config travels as its TOML text and is parsed again)."""

    extra_ptp: tuple[PtpEdit, ...] = ()
    mue: Mapping[str, MueEdit] | None = None
    config_text: str | None = None
    config_source: str = "<config>"
    #: where in ``config_text`` the configuration is (``("tool", "edi-rehab")`` in a pyproject.toml)
    config_table: tuple[str, ...] = ()
    minutes: MinutesTable | None = None
    unit_method: str | None = None
    #: Rule codes from the command line (IG codes already taken out).
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    #: Run no therapy rule at all (``--select`` named IG codes only).
    rules_off: bool = False

    def build(self) -> Checker:
        """Raises what :class:`~edi_rehab.engine.Checker`, ``load_maps`` and ``parse_config`` raise."""
        from .config import Config, parse_config
        from .engine import Checker
        from .mapdata import load_maps

        maps = load_maps(extra_ptp=self.extra_ptp, mue=self.mue) if self.extra_ptp or self.mue else load_maps()
        config = (
            parse_config(self.config_text, self.config_source, self.config_table) if self.config_text is not None else None
        )
        if self.rules_off:
            # A select no rule code matches: the Checker itself refuses unknown codes, the
            # config does not (its select is whatever the file said).
            config = dataclasses.replace(config or Config(), select=("IG",), ignore=())
        return Checker(
            maps=maps,
            config=config,
            minutes=self.minutes,
            unit_method=self.unit_method,
            select=None if self.rules_off else (self.select or None),
            ignore=None if self.rules_off else (self.ignore or None),
        )


@dataclass(frozen=True, slots=True)
class CheckPiece:
    """The check findings of some consecutive part of one input."""

    findings: tuple[Finding, ...] = ()
    #: Claims seen that the minutes table names (invariant 3).
    seen_claims: frozenset[str] = frozenset()
    claims: int = 0
    transactions: int = 0
    #: Of those, 837P (005010X222) transaction sets: the only ones the therapy rules run on.
    professional: int = 0
    #: The reader's error when the input turned out unreadable in this part (the findings
    #: before it stand), without the input's name.
    error: str | None = None


class _Context:
    """A checker and the claim ids its minutes table names (computed once)."""

    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        table = checker.minutes
        self.minutes_claims = frozenset(row.claim_id for row in table.rows) if table is not None else frozenset()


_WORKER: _Context | None = None


def start_worker(recipe: CheckRecipe | None) -> None:
    """The process-pool initializer: build this worker's checker once (``None``: validation only)."""
    global _WORKER
    _WORKER = _Context(recipe.build()) if recipe is not None else None


def _check(context: _Context, events: Iterable) -> CheckPiece:
    findings: list[Finding] = []
    seen: set[str] = set()
    claims = transactions = professional = 0
    names = context.minutes_claims
    try:
        for result in context.checker.check_events(events, claim_views=False):
            findings.extend(result.findings)
            if isinstance(result.event, Transaction):
                transactions += 1
                professional += is_professional(result.event)
                claims += result.claim_count
                if names:
                    seen.update(claim_id for claim_id in result.claim_ids if claim_id in names)
    except X12ReadError as error:
        return CheckPiece(tuple(findings), frozenset(seen), claims, transactions, professional, str(error))
    return CheckPiece(tuple(findings), frozenset(seen), claims, transactions, professional)


def is_professional(transaction: Transaction) -> bool:
    """An 837P 005010X222 transaction set (the engine runs the therapy rules on these only)."""
    return transaction.set_id == "837" and transaction.version.startswith("005010X222")


def _worker_context() -> _Context:
    if _WORKER is None:
        raise RuntimeError("worker started without a checker (start_worker(recipe))")
    return _WORKER


def check_whole(data: bytes) -> CheckPiece:
    """Worker: check a whole input."""
    return _check(_worker_context(), iter_events([data]))


def check_transactions(transactions: list[Transaction]) -> CheckPiece:
    """Worker: check consecutive transactions of one input (positions are the input's).

    The list is emptied as it is read: a checked transaction keeps the segments its rules
    built, and a list holding all of them would make every collection walk them all
    (measured: a batch of four 500-claim transactions checked 1.7 times slower).
    """
    return _check(_worker_context(), _drain(transactions))


def _drain(items: list) -> Iterator:
    items.reverse()
    while items:
        yield items.pop()


def validate_whole(data: bytes) -> ValidationResult:
    """Worker: validate a whole input (pyx12's own 999)."""
    from .validate import validate_bytes

    return validate_bytes(data)


def note_seen_claims(checker: Checker, claim_ids: Iterable[str]) -> None:
    """Tell ``checker`` about claims its workers saw, before ``minutes_findings()``."""
    checker.note_claims_seen(claim_ids)


# -- planning -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Work:
    """One step of one input's result, in order.

    ``kind`` says what the value is: ``check`` (:class:`CheckPiece`), ``validation``
    (:class:`~edi_rehab.validate.ValidationResult`), ``chunk``
    (:class:`~edi_rehab.validate.ChunkOutcome`), ``plan``
    (:class:`~edi_rehab.validate.ValidationPlan`, chunk texts dropped), ``error`` (a message
    naming the input) or ``end``.
    """

    file: int
    kind: str
    value: Any = None
    #: A top-level function to run on ``value`` (in a worker); ``None``: ``value`` is the result.
    call: Callable[[Any], Any] | None = None
    #: Input bytes this step covers (for progress).
    size: int = 0


def plan_input(
    index: int,
    name: str,
    chunks: Iterable[bytes],
    size: int | None,
    *,
    checker: Checker | None,
    validate: bool = False,
    parallel: bool = False,
    jobs: int = 1,
    batch_bytes: int | None = None,
    split_check_bytes: int | None = None,
    split_validate_bytes: int | None = None,
) -> Iterator[Work]:
    """The work items of one input, lazily (see the module docstring).

    Args:
        index: the input's place in the run.
        name: how messages name it.
        chunks: its bytes, in any chunking; reading them may raise :class:`InputFailure`.
        size: its size when known (a file), ``None`` for a stream.
        checker: the run's checker (envelope events and inline checks use it); ``None``
            for validation only.
        validate: validate too (the input is then held in memory).
        parallel: calls go to worker processes; ``False`` plans inline work.
        jobs: the number of workers (sizes the validation chunks).
        batch_bytes, split_check_bytes, split_validate_bytes: override
            :data:`CHECK_BATCH_BYTES`, :data:`SPLIT_CHECK_BYTES`, :data:`SPLIT_VALIDATE_BYTES`.
    """
    batch_bytes = CHECK_BATCH_BYTES if batch_bytes is None else batch_bytes
    split_check_bytes = SPLIT_CHECK_BYTES if split_check_bytes is None else split_check_bytes
    split_validate_bytes = SPLIT_VALIDATE_BYTES if split_validate_bytes is None else split_validate_bytes
    try:
        data = None
        if validate or (parallel and checker is not None and size is not None and size <= split_check_bytes):
            data = b"".join(chunks)
            chunks = [data]
        check_failed = False
        if checker is not None:
            if parallel and data is not None and len(data) <= split_check_bytes:
                yield Work(index, "check", data, check_whole, len(data))
            else:
                for work in _stream_check(index, name, chunks, checker, parallel, batch_bytes, size, jobs):
                    check_failed = check_failed or work.kind == "error"
                    yield work
        if validate and not check_failed:
            yield from _plan_validation(index, data, parallel and len(data) >= split_validate_bytes, jobs)
    except InputFailure as problem:
        yield Work(index, "error", str(problem))
    yield Work(index, "end")


def worker_batch_limit(batch_bytes: int, jobs: int, sent: int, remaining: int | None) -> int:
    """How many bytes of transactions the next worker batch collects before it is sent.

    ``sent``: batches of this input sent so far; ``remaining``: bytes of the input from the
    batch's first transaction to its end (``None``: not known, standard input). The first
    ``jobs`` batches are a quarter of ``batch_bytes``, so that each worker starts after a
    little reading instead of a whole batch each. Near the end a batch is at most a
    ``2 * jobs``-th of what is left (guided self-scheduling), so that the workers run out of
    work together instead of one checking a whole last batch while the other waits. A
    transaction is never cut, so a batch still holds one at least.
    """
    limit = batch_bytes // 4 if sent < jobs else batch_bytes
    if remaining is not None:
        limit = min(limit, remaining // (2 * max(jobs, 1)))
    return max(limit, 1)


def _stream_check(
    index: int,
    name: str,
    chunks: Iterable[bytes],
    checker: Checker,
    parallel: bool,
    batch_bytes: int,
    size: int | None = None,
    jobs: int = 1,
) -> Iterator[Work]:
    context = _Context(checker)
    batch: list[Transaction] = []
    batch_size = 0
    limit = batch_bytes
    sent = 0

    def flush() -> Work:
        nonlocal batch, batch_size, sent
        if parallel:
            work = Work(index, "check", batch, check_transactions, batch_size)
            sent += 1
        else:
            work = Work(index, "check", _check(context, batch), None, batch_size)
        batch, batch_size = [], 0
        return work

    events = iter_events(chunks)
    while True:
        try:
            event = next(events, None)
        except (X12ReadError, InputFailure) as error:
            if batch:
                yield flush()  # the findings before the problem stand, as inline
            yield Work(index, "error", f"{name}: {error}" if isinstance(error, X12ReadError) else str(error))
            return
        if event is None:
            break
        if isinstance(event, Transaction):
            if parallel and not batch:
                remaining = size - event.offset if size is not None else None
                limit = worker_batch_limit(batch_bytes, jobs, sent, remaining)
            batch.append(event)
            batch_size += len(event.raw)
            if batch_size >= limit:
                yield flush()
            continue
        if batch:
            yield flush()
        yield Work(index, "check", _check(context, [event]), None, len(event.raw))
        if isinstance(event, EndOfInput):
            break
        event = None  # free it before the next is read
    if batch:
        yield flush()


def _plan_validation(index: int, data: bytes, split: bool, jobs: int) -> Iterator[Work]:
    if not split:
        yield Work(index, "validation", data, validate_whole, len(data))
        return
    from .validate import CHUNKS_PER_WORKER, DEFAULT_MIN_CHUNK_BYTES, plan_validation, validate_chunk

    chunk_bytes = max(DEFAULT_MIN_CHUNK_BYTES, len(data) // (CHUNKS_PER_WORKER * max(jobs, 1)))
    plan = plan_validation(data, split=True, chunk_bytes=chunk_bytes)
    for chunk in plan.chunks:
        yield Work(index, "chunk", chunk.text, validate_chunk, len(chunk.text))
    # assemble() needs the positions, not the texts: do not keep a second copy of the input.
    lean = tuple(dataclasses.replace(chunk, text="") for chunk in plan.chunks)
    yield Work(index, "plan", dataclasses.replace(plan, chunks=lean))


# -- worker processes -----------------------------------------------------------------------------
class PoolBroken(Exception):
    """A worker process of a :class:`ForkPool` stopped (killed, out of memory, crashed)."""


class CallFailed(Exception):
    """A call raised in a worker; ``kind`` is the exception's type name, ``str()`` its text."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Call:
    """A call submitted to a :class:`ForkPool`; :meth:`result` waits for it."""

    __slots__ = ("_pool", "done", "value", "error")

    def __init__(self, pool: ForkPool) -> None:
        self._pool = pool
        self.done = False
        self.value: Any = None
        self.error: Exception | None = None

    def result(self) -> Any:
        while not self.done:
            self._pool._receive(block=True)
        if self.error is not None:
            raise self.error
        return self.value


class _Worker:
    __slots__ = ("pid", "tasks", "results", "call")

    def __init__(self, pid: int, tasks, results) -> None:
        self.pid = pid
        self.tasks = tasks  # our end of its task pipe (raw file, written here)
        self.results = results  # our end of its result pipe (raw file, read here)
        self.call: _Call | None = None  # what it is working on


class ForkPool:
    """``jobs`` worker processes forked from this one, each fed through its own pipes.

    What :class:`concurrent.futures.ProcessPoolExecutor` does for ``run_in_order``, without
    importing it: ``concurrent.futures.process`` brings in ``multiprocessing``, ``socket`` and
    ``logging``, about 200 M instructions (callgrind) of start-up before the first worker
    starts, paid by every ``--jobs`` run. Linux only (:meth:`available`), where a process pool
    forks anyway; elsewhere the caller uses the executor.

    A call goes to a worker that has nothing to do, as one message (its length, then the
    pickled function and argument); calls wait here while both are busy. Whenever this
    process waits for a result, or submits, it takes in the results that are ready and hands
    the waiting calls on, so a worker idles only while this process is reading or rendering.
    A worker that dies breaks the pool (:class:`PoolBroken`); a call that raises comes back as
    :class:`CallFailed`. Workers leave by ``os._exit``: they never run this process's exit
    handlers or flush its buffers.
    """

    def __init__(self, jobs: int, initializer: Callable[[Any], None], initarg: Any) -> None:
        self._jobs = jobs
        self._initializer = initializer
        self._initarg = initarg
        self._workers: list[_Worker] = []
        self._waiting: deque[tuple[_Call, bytes]] = deque()
        self._broken = False

    @staticmethod
    def available() -> bool:
        import os
        import sys

        return sys.platform.startswith("linux") and hasattr(os, "fork")

    def __enter__(self) -> ForkPool:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.shutdown(stop=kind is not None)

    def submit(self, call: Callable[[Any], Any], arg: Any) -> _Call:
        import pickle

        if self._broken:
            raise PoolBroken("a worker process stopped")
        if not self._workers:
            self._start()
        submitted = _Call(self)
        self._waiting.append((submitted, pickle.dumps((call, arg), pickle.HIGHEST_PROTOCOL)))
        self._receive(block=False)
        return submitted

    def _start(self) -> None:
        import os

        for _ in range(self._jobs):
            task_read, task_write = os.pipe()
            result_read, result_write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns into the caller's code
                code = 1
                try:
                    for worker in self._workers:  # the other workers' pipes, or EOF never comes
                        os.close(worker.tasks.fileno())
                        os.close(worker.results.fileno())
                    os.close(task_write)
                    os.close(result_read)
                    _serve(task_read, result_write, self._initializer, self._initarg)
                    code = 0
                except BaseException:  # noqa: BLE001 - interrupted or broken pipe: just leave
                    pass
                finally:
                    os._exit(code)
            os.close(task_read)
            os.close(result_write)
            self._workers.append(_Worker(pid, open(task_write, "wb", buffering=0), open(result_read, "rb", buffering=0)))

    def _receive(self, block: bool) -> None:
        """Hand waiting calls to idle workers; take in finished results (wait for one if ``block``)."""
        import pickle
        import select

        self._dispatch()
        busy = {worker.results: worker for worker in self._workers if worker.call is not None}
        if not busy:
            return
        ready, _, _ = select.select(list(busy), [], [], None if block else 0)
        for results in ready:
            worker = busy[results]
            message = _read_message(results)
            if message is None:
                self._break()
                return
            reply = pickle.loads(message)
            call, worker.call = worker.call, None
            assert call is not None
            if reply[0]:
                call.value = reply[1]
            else:
                call.error = CallFailed(reply[1], reply[2])
            call.done = True
        self._dispatch()

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._waiting:
                return
            if worker.call is None:
                call, message = self._waiting.popleft()
                worker.call = call
                try:
                    _write_message(worker.tasks, message)
                except OSError:  # it died (broken pipe)
                    self._break()
                    return

    def _break(self) -> None:
        self._broken = True
        stopped = PoolBroken("a worker process stopped")
        for worker in self._workers:
            if worker.call is not None:
                worker.call.error, worker.call.done, worker.call = stopped, True, None
        for call, _ in self._waiting:
            call.error, call.done = stopped, True
        self._waiting.clear()

    def shutdown(self, stop: bool = False) -> None:
        """Close the pipes (a worker leaves when its task pipe ends) and wait for the workers;
        ``stop``: terminate them first (the run is being abandoned)."""
        import os
        import signal

        for worker in self._workers:
            if stop or self._broken:
                try:
                    os.kill(worker.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            worker.tasks.close()
            worker.results.close()  # a worker blocked on writing a result gets EPIPE and leaves
        for worker in self._workers:
            try:
                os.waitpid(worker.pid, 0)
            except ChildProcessError:
                pass
        self._workers = []


def _serve(tasks: int, results: int, initializer: Callable[[Any], None], initarg: Any) -> None:
    """A worker's loop: read a call, run it, write the reply, until the task pipe ends."""
    import io
    import pickle

    initializer(initarg)
    task_file, result_file = open(tasks, "rb", buffering=0), open(results, "wb", buffering=0)
    table = _reply_reducers()

    def dumps(reply: tuple) -> bytes:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = table
        pickler.dump(reply)
        return buffer.getvalue()
    while True:
        message = _read_message(task_file)
        if message is None:
            return
        call, arg = pickle.loads(message)
        del message
        try:
            reply: tuple = (True, call(arg))
        except Exception as error:  # a bug, not a finding: the caller says so
            reply = (False, type(error).__name__, str(error))
        del call, arg
        try:
            data = dumps(reply)
        except Exception as error:  # an unpicklable value or exception
            data = pickle.dumps((False, type(error).__name__, str(error)), pickle.HIGHEST_PROTOCOL)
        del reply
        _write_message(result_file, data)


def _reply_reducers() -> dict:
    """How a worker pickles its replies: as ``copyreg`` does, but the frozen slotted records a
    check returns (:class:`CheckPiece`, findings, fixes, edits) as a tuple of their fields.
    Their own pickling (the ``__getstate__``/``__setstate__`` that ``dataclass(slots=True)``
    adds) calls ``dataclasses.fields`` for every object, on both sides: unpickling the pieces
    was about 50 M instructions of the main process on the 20 MB hook file's 1,379 findings."""
    import copyreg
    import operator

    from .findings import Edit, Finding, Fix

    table = copyreg.dispatch_table.copy()
    for cls in (CheckPiece, Finding, Fix, Edit):
        table[cls] = _reducer(cls, operator.attrgetter(*_field_names(cls)))
    return table


def _reducer(cls: type, values: Callable[[Any], tuple]) -> Callable[[Any], tuple]:
    return lambda record: (_restore_record, (cls, values(record)))


#: Field names of the records :func:`_reply_reducers` pickles, per class, in field order.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """``cls``'s dataclass field names in order, asked of ``dataclasses.fields`` once per class
    and process (the worker when it pickles, the main process when it unpickles)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _restore_record(cls: type, values: tuple) -> Any:
    """Unpickle a record pickled by :func:`_reply_reducers`: exactly what the dataclass's own
    ``__setstate__`` does (``object.__new__``, then each field set in order), without asking
    ``dataclasses.fields`` each time."""
    record = object.__new__(cls)
    for name, value in zip(_field_names(cls), values):
        object.__setattr__(record, name, value)
    return record


def _write_message(pipe, data: bytes) -> None:
    pipe.write(len(data).to_bytes(8, "little"))
    view = memoryview(data)
    while view:
        view = view[pipe.write(view) :]


def _read_message(pipe) -> bytes | None:
    """One message, or None when the pipe ended (before or inside it)."""
    header = _read_exactly(pipe, 8)
    if header is None:
        return None
    return _read_exactly(pipe, int.from_bytes(header, "little"))


def _read_exactly(pipe, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = pipe.readinto(view[got:])
        if not n:
            return None
        got += n
    return buffer  # type: ignore[return-value] - pickle reads it as it is


# -- running ------------------------------------------------------------------------------------
def run_in_order(works: Iterable[Work], executor: Executor | None, *, window: int = 4) -> Iterator[tuple[Work, Any]]:
    """Run ``works`` and yield ``(work, value)`` in their order (invariant 2).

    With an executor, at most ``window`` calls are unfinished at once and ``works`` is read
    no further ahead than that. Without one, calls run here as they come.

    Raises:
        WorkerFailed: a worker process died (the pool is broken) or a call raised.
    """
    # concurrent.futures (and logging with it) is imported only when there is a pool: the
    # usual hook run, one small file in one process, never needs it. ``except ()`` catches
    # nothing, and without an executor no call can raise BrokenExecutor anyway.
    if isinstance(executor, ForkPool):
        BrokenExecutor = PoolBroken  # noqa: N806 - and concurrent.futures stays unimported
    elif executor is not None:
        from concurrent.futures import BrokenExecutor
    else:
        BrokenExecutor = ()  # noqa: N806
    pending: deque[tuple[Work, Future | None, Any]] = deque()
    unfinished = 0
    source = iter(works)
    exhausted = False
    while True:
        # Inline, plan one item at a time: nothing is computed before it is wanted.
        ahead = 8 * window if executor is not None else 1
        while not exhausted and unfinished < window and len(pending) < ahead:
            work = next(source, None)
            if work is None:
                exhausted = True
            elif work.call is None:
                pending.append((work, None, work.value))
            elif executor is None:
                pending.append((work, None, work.call(work.value)))
            else:
                try:
                    future = executor.submit(work.call, work.value)
                except BrokenExecutor:
                    raise WorkerFailed(work.file, "a worker process stopped unexpectedly") from None
                # The worker has its own copy now: do not keep the argument alive here.
                pending.append((dataclasses.replace(work, value=None), future, None))
                unfinished += 1
        if not pending:
            return
        work, future, value = pending.popleft()
        if future is not None:
            unfinished -= 1
            try:
                value = future.result()
            except BrokenExecutor:
                raise WorkerFailed(work.file, "a worker process stopped unexpectedly (killed, or out of memory?)") from None
            except CallFailed as error:
                raise WorkerFailed(work.file, f"a worker failed: {error.kind}: {error}") from None
            except Exception as error:  # a bug, not a finding: say what, never a traceback
                raise WorkerFailed(work.file, f"a worker failed: {type(error).__name__}: {error}") from None
        yield work, value


# -- collecting ---------------------------------------------------------------------------------
@dataclass(slots=True)
class InputResult:
    """What one input came to."""

    index: int
    name: str
    size: int | None = None
    claims: int = 0
    transactions: int = 0
    #: 837P transaction sets among them (0: the rules ran on nothing in this input).
    professional: int = 0
    #: Check findings per severity (IG findings included).
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Severity})
    #: Why the input is unreadable (or could not be validated); ``None`` when it is fine.
    error: str | None = None
    validation: ValidationResult | None = None
    seen_claims: set[str] = field(default_factory=set)
    #: Where its 999 was written (set by the caller).
    ack: str | None = None

    @property
    def worst(self) -> Severity | None:
        return next((s for s in Severity if self.counts[s.value]), None)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Findings:
    """Check findings of input ``index``, as they come (in segment order)."""

    index: int
    findings: tuple[Finding, ...]


def collect(
    ordered: Iterable[tuple[Work, Any]],
    names: Callable[[int], tuple[str, int | None]],
    *,
    check: bool = True,
    buffer: bool = False,
    ig: IgFilter | None = None,
) -> Iterator[Findings | InputResult]:
    """Fold :func:`run_in_order`'s output into :class:`Findings` and, at the end of each
    input, its :class:`InputResult`.

    Args:
        names: ``index -> (name, size)`` of an input.
        check: the run checks (``False``: validation only).
        buffer: hold each input's findings until its end (one :class:`Findings` per input,
            yielded just before its result); implied when ``ig`` is given.
        ig: turn validation issues into IG findings with this filter, merged into the
            check findings in segment order.
    """
    buffer = buffer or ig is not None
    current: InputResult | None = None
    held: list[Finding] = []
    outcomes: list = []
    for work, value in ordered:
        if current is None or current.index != work.file:
            name, size = names(work.file)
            current, held, outcomes = InputResult(work.file, name, size), [], []
        kind = work.kind
        if kind == "check":
            piece: CheckPiece = value
            current.claims += piece.claims
            current.transactions += piece.transactions
            current.professional += piece.professional
            current.seen_claims.update(piece.seen_claims)
            if piece.findings:
                if buffer:
                    held.extend(piece.findings)
                else:
                    _count(current, piece.findings)
                    yield Findings(work.file, piece.findings)
            if piece.error is not None and current.error is None:
                current.error = f"{current.name}: {piece.error}"
        elif kind == "error":
            current.error = current.error or value
        elif kind == "validation":
            current.validation = value
        elif kind == "chunk":
            outcomes.append(value)
        elif kind == "plan":
            from .validate import assemble

            current.validation = assemble(value, outcomes)
            outcomes = []
        elif kind == "end":
            validation = current.validation
            if validation is not None:
                if not check:
                    current.transactions = validation.transaction_count
                if current.error is None and validation.status.value == "unreadable":
                    current.error = f"{current.name}: not validated: {why_not_validated(validation)}"
                if ig is not None:
                    from .ig import ig_findings

                    extra = ig_findings(validation, ig)
                    # Both are in segment order; at one segment the therapy findings come first.
                    held = list(heapq.merge(held, extra, key=lambda f: f.segment))
            if buffer and held:
                _count(current, held)
                yield Findings(work.file, tuple(held))
            yield current
            current, held, outcomes = None, [], []


def _count(result: InputResult, findings: Iterable[Finding]) -> None:
    for finding in findings:
        result.counts[finding.severity.value] += 1


#: Validation issue codes that mean "could not be validated", not "invalid".
NOT_VALIDATED_CODES = ("no-map", "pyx12-failed", "unreadable")


def why_not_validated(result: ValidationResult) -> str:
    for issue in result.issues:
        if issue.code in NOT_VALIDATED_CODES:
            return issue.message
    return "pyx12 could not decide"


# -- reporting ----------------------------------------------------------------------------------
def check_status(result: InputResult, fail_on: Severity) -> str:
    """``unreadable``, ``fail`` (a finding at or above ``fail_on``), ``no-837p`` (readable,
    but no 837P transaction set to run the rules on, and nothing at ``fail_on``), ``warn``
    (findings below it) or ``pass``."""
    if result.error is not None:
        return "unreadable"
    worst = result.worst
    if worst is not None and worst.rank >= fail_on.rank:
        return "fail"
    if not result.professional:
        return "no-837p"
    if worst is None:
        return "pass"
    return "fail" if worst.rank >= fail_on.rank else "warn"


def summary_table(rows: list[list[str]], header: list[str], align: str = "") -> list[str]:
    """A plain-text table. ``align`` has one letter per column, ``l`` or ``r``; by default
    the first column is left-aligned and the others right-aligned."""
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(row, widths, align)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(header), rule, *(line(row) for row in rows)]
