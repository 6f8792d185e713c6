"""Rule-based tags (自动设置标签): rules over client facts, evaluated for the population."""
