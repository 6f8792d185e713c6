"""Disease risk assessment and advice (疾病风险评估 · 饮食/运动/心理健康建议)."""
