"""Tenancy: institutions, their departments, and the care teams that own clients.

An institution is the tenant boundary: every client-data row carries its institution, and no
query crosses it. Care teams are the unit of least privilege: staff see the clients of the
teams they belong to and no others.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Institution(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=6, unique=True, help_text="digits; prefixes card numbers")
    name = models.CharField(max_length=200)
    card_sequence = models.PositiveBigIntegerField(default=0)
    # Whether a client's "who looked at my record" page names the staff (else only their role).
    portal_shows_staff_names = models.BooleanField(default=False)
    # Where the institution's clients live, as China-PAR asks (north of the Yangtze; urban):
    # a property of the population served, not something to read off each client's address.
    # None: not configured, and China-PAR then says "not applicable" rather than guess.
    serves_north = models.BooleanField(null=True, blank=True)
    serves_urban = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="departments"
    )
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["institution", "name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class CareTeam(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="care_teams"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="care_teams")
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["institution", "name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="careteam_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class TeamRole(models.TextChoices):
    LEAD = "lead", "组长"
    MEMBER = "member", "成员"


class CareTeamMembership(TimeStamped):
    care_team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=16, choices=TeamRole.choices, default=TeamRole.MEMBER)

    class Meta:
        ordering = ["care_team", "user"]
        constraints = [
            models.UniqueConstraint(fields=["care_team", "user"], name="membership_once")
        ]
