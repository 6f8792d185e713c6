"""Diet, exercise and mental-health advice (饮食/运动/心理健康建议): catalogue and advice sheets."""
