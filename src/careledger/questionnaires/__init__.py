"""Questionnaires and intake forms (问卷调查 · 问诊表): FHIR Questionnaire R4 engine."""
