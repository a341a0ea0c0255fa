from typing import Self

from django.db import models


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkspaceQuerySet(models.QuerySet):
    """The one scoping path for tenant-owned rows (CONVENTIONS §3)."""

    def for_workspace(self, workspace: "models.Model | int") -> Self:
        return self.filter(workspace=workspace)


def covered_workspace() -> models.ForeignKey:
    """The `workspace` of a tenant model whose composite indexes all start with it.

    Every index is written on each insert: the sync writes thousands of rows a second, so a
    column that already leads a composite index gets no single-column index of its own.
    """
    return models.ForeignKey(
        "inbox.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )


class TenantModel(TimestampedModel):
    """A row owned by one workspace; always scoped through `for_workspace`."""

    workspace = models.ForeignKey("inbox.Workspace", on_delete=models.CASCADE, related_name="+")

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        abstract = True
