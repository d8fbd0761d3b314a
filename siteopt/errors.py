"""The error hierarchy of siteopt.

Every error a user can cause carries a message that names the file, the row or field and the fix.
The CLI turns :class:`SiteoptError` into one line per problem on stderr and exit code 2, with no
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Parameters
    ----------
    file : str
        The file (or logical input, such as ``--set``) the problem is in.
    message : str
        What is wrong and how to fix it.
    row : int or None
        The row as a spreadsheet shows it (the header is row 1, the first data row is row 2), if
        the problem is in one row.
    field : str or None
        The column or key, if the problem is in one field.
    """

    file: str
    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


class SiteoptError(Exception):
    """Base class of every error siteopt raises on purpose."""

    exit_code = 2

    def lines(self) -> list[str]:
        """The message as the lines the CLI prints."""
        return [str(self)]


class DataError(SiteoptError, ValueError):
    """Input data failed validation; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("DataError needs at least one problem")
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def __reduce__(self) -> tuple[type[DataError], tuple[list[Problem]]]:
        # pickled with its problems (not its message), so that it reaches the caller intact
        # from a worker process (siteopt.runs.workers)
        return (type(self), (self.problems,))


class InfeasibleError(SiteoptError):
    """The model has no solution; the message says which limits conflict and by how much."""


class SolverError(SiteoptError):
    """The solver failed, is not installed, or returned no usable solution."""
