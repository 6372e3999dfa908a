"""Group commit: the writing transactions that a process's threads start together share one
database transaction and one commit.

SQLite takes one writer at a time, and a durable commit waits for the disk (an fsync under
synchronous FULL), which is much of what a short transaction costs. So the writers of one
process take a single writer role in turn, first come first served, and pass it on without
committing while others wait (PostgreSQL, which runs writers concurrently and shares one
WAL flush among commits that arrive together, does not use this):

- The thread that takes the role with no group open begins the group's transaction and
  runs its work directly in it (a lone writer costs what a plain transaction costs).
- A thread handed the role while a group is open joins it in a savepoint. If its work
  fails, the savepoint is rolled back: nothing of it stays, the others' work is untouched.
- When a member's work is done it hands the role on if another thread waits and the group
  is below :data:`GROUP_BOUND`; otherwise it commits the group (or rolls it back if a
  member's failure broke the transaction) and then lets the next waiter begin a new one.
- Every member returns only after that commit: a member's writes are acknowledged once
  they are durable, and a failed commit raises a :class:`StoreError` in every member. A
  refused member waits for the outcome too, since what it read may include the writes of
  members before it; if those never commit, it raises the store's error instead.

On SQLite files a group also holds an OS lock on a file beside the database while it
writes (see :class:`FileLock`).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, RootTransaction
from sqlalchemy.exc import SQLAlchemyError

from engine.store.errors import StoreError, store_failure

#: The savepoint each member after the first works in. Members take turns, so one is open
#: at a time, and one name is one statement: SQLAlchemy's ``begin_nested`` names each
#: savepoint anew, which it then compiles anew, and that was about a tenth of what the
#: service spent on a request.
_MEMBER = "propflow_member"

#: The most members one group takes before it commits, so that a steady stream of writers
#: still commits regularly and the first member's wait stays bounded.
GROUP_BOUND = 32


class _Group:
    """One open database transaction and the members whose work is in it."""

    def __init__(self, connection: Connection, root: RootTransaction) -> None:
        self.connection = connection
        self.root = root
        self.members = 1
        #: Set when a member's failure left the transaction unusable: roll it all back.
        self.broken: StoreError | None = None
        #: The error every member raises once the group ended without committing.
        self.failure: StoreError | None = None
        self.done = threading.Event()


class WriterGroups:
    """The writer role of one store's process, and the group transaction it writes in.

    ``begin`` opens a writing connection and begins its transaction (taking the database's
    write lock); ``lock``, if given, is held by each group from before it begins to after
    it ends (the OS lock of a SQLite file).
    """

    def __init__(
        self, begin: Callable[[], tuple[Connection, RootTransaction]], lock: FileLock | None
    ) -> None:
        self._begin = begin
        self._lock = lock
        self._mutex = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Event] = deque()
        self._group: _Group | None = None
        self._holder: int | None = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A writing transaction, alone or in the group open now (see the module's words).

        A thread that asks for a writing transaction inside its own has a programming error:
        the inner one would wait for the outer one's commit, which waits for the inner one.
        """
        if self._holder == threading.get_ident():
            raise RuntimeError("a writing transaction inside another of the same thread")
        self._take()
        group = self._group
        if group is None:
            try:
                group = self._open()
            except BaseException:
                self._release()
                raise
            try:
                yield group.connection
            except BaseException:
                # Nothing but this member's work is in the transaction: undo it all.
                self._end(group, commit=False)
                raise
        else:
            group.members += 1
            connection = group.connection
            try:
                connection.exec_driver_sql(f"SAVEPOINT {_MEMBER}")
            except SQLAlchemyError as exc:
                group.broken = store_failure(exc)
                self._pass_or_end(group)
                raise
            try:
                yield connection
                connection.exec_driver_sql(f"RELEASE SAVEPOINT {_MEMBER}")
            except BaseException as error:
                try:
                    connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_MEMBER}")
                    connection.exec_driver_sql(f"RELEASE SAVEPOINT {_MEMBER}")
                except SQLAlchemyError as exc:  # the connection is lost, or the transaction
                    lost = error if isinstance(error, SQLAlchemyError) else exc
                    group.broken = store_failure(lost)
                self._pass_or_end(group)
                _raise_failure(group)
                raise
        self._pass_or_end(group)
        _raise_failure(group)

    def _take(self) -> None:
        """Wait for the writer role, first come first served."""
        with self._mutex:
            if not self._busy and not self._waiting:
                self._busy = True
                turn = None
            else:
                turn = threading.Event()
                self._waiting.append(turn)
        if turn is not None:
            turn.wait()  # the role was handed to this thread (``_busy`` stayed set)
        self._holder = threading.get_ident()

    def _release(self) -> None:
        """Hand the writer role to the first waiter, or free it."""
        with self._mutex:
            self._holder = None
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._busy = False

    def _open(self) -> _Group:
        if self._lock is not None:
            self._lock.acquire()
        try:
            connection, root = self._begin()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self._group = _Group(connection, root)
        return self._group

    def _pass_or_end(self, group: _Group) -> None:
        """After a member's work: let a waiting thread join the group, or end it."""
        with self._mutex:
            joins = bool(group.broken is None and self._waiting and group.members < GROUP_BOUND)
            if joins:
                self._holder = None
                self._waiting.popleft().set()
        if not joins:
            self._end(group, commit=group.broken is None)
        group.done.wait()

    def _end(self, group: _Group, *, commit: bool) -> None:
        """Commit the group (or roll it back), then free the role and wake its members."""
        self._group = None
        try:
            if commit:
                group.root.commit()
            else:
                group.failure = group.broken
                group.root.rollback()
        except SQLAlchemyError as exc:
            group.failure = group.failure or store_failure(exc)
            # SQLAlchemy counts the transaction as ended, the database may not (SQLite keeps
            # it open when a deferred constraint refuses the commit): the connection goes.
            group.connection.invalidate()
        finally:
            try:
                group.connection.close()
            except SQLAlchemyError as exc:
                group.failure = group.failure or store_failure(exc)
            finally:
                if self._lock is not None:
                    self._lock.release()
                self._release()
                group.done.set()


def _raise_failure(group: _Group) -> None:
    """Raise, in one member, the error of a group that did not commit (each member its own
    instance of it: an exception is not shared between threads)."""
    if group.failure is not None:
        raise type(group.failure)(
            f"nothing of this transaction was written: {group.failure}"
        ) from group.failure


class FileLock:
    """An OS lock (``flock``) on a file beside a SQLite database, which a process's group
    takes before it begins writing and lets go once it has committed.

    SQLite's write lock has no queue: a writer kept waiting by another process sleeps in
    the busy handler's growing steps (up to 100 ms) before it looks again, and a process
    that commits and begins again at once can keep the other waiting for seconds. A process
    waiting here is woken the moment the lock is let go. The busy timeout stays, for writers
    that do not take this lock (other tools, the schema's own transaction); a database whose
    directory cannot hold the lock file (read-only) is written without it.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        #: The lock file's descriptor (-1: none can be opened) and the process that opened
        #: it: a forked child shares its parent's lock, so it opens its own.
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> None:
        if self._fd is None or self._pid != os.getpid():
            self._fd, self._pid = _lock_file(self._path), os.getpid()
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None and self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file (it is opened again by the next writer)."""
        if self._fd is not None and self._fd >= 0 and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


def _lock_file(path: str) -> int:
    """A descriptor of the lock file, made if need be; -1 if it cannot be opened."""
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            return os.open(path, flags | os.O_CLOEXEC, 0o644)
        except OSError:
            continue
    return -1
