"""Demo data for exports, through the services: a research project kept by the admin and one
de-identified quality-improvement request by the doctor, waiting for the second person (so the
admin's and the auditor's approval queue is not empty). Idempotent: run again, nothing added."""

from __future__ import annotations

from typing import Any

from careledger.exports import services
from careledger.exports.models import ExportRequest, ResearchProject


def seed_exports(institution: Any, users: dict[str, Any]) -> None:
    if not ResearchProject.objects.filter(institution=institution, code="htn-cohort").exists():
        services.do_create_project(
            actor=users["admin"], code="htn-cohort", title="高血压队列随访研究", k=5
        )
    if not ExportRequest.objects.filter(institution=institution).exists():
        services.do_request_export(
            actor=users["doctor"],
            data={
                "purpose": "quality_improvement",
                "categories": ["observations", "tags"],
                "observation_codes": ["8480-6", "8462-4", "2345-7"],
                "k": 5,
            },
            justification="季度血压、血糖控制率质量改进分析（演示数据）",
        )
