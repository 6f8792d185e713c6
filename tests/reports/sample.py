"""A report document as the gather step makes it, for the database-free tests."""

from __future__ import annotations

from typing import Any

LABELS = {
    "title": "健康报告",
    "footer": (
        "第 {page}/{pages} 页 · 打印编号 {print_id} · "
        "扫描二维码或运行 careledger report verify 核验"
    ),
    "printed_at": "打印时间",
    "print_id": "打印编号",
    "printed_by": "打印人",
    "purpose": "用途",
    "verify_hint": "本报告由机构签名；扫描右侧二维码可核验真伪与是否被改动。",
    "client": "客户信息",
    "name": "姓名",
    "sex": "性别",
    "age": "年龄",
    "card_number": "会员卡号",
    "document_number": "证件号码",
    "phone": "手机号码",
    "masked_note": "按您的角色，身份信息已部分隐藏。",
    "abnormal": "异常结果",
    "col_indicator": "指标",
    "col_value": "结果",
    "col_unit": "单位",
    "col_flag": "提示",
    "col_range": "参考范围",
    "col_date": "日期",
    "trends": "重点指标趋势",
    "risks": "疾病风险评估",
    "inputs": "输入",
    "source": "来源",
    "advice": "健康建议",
    "note": "医嘱备注",
    "tags": "标签",
    "stage_summary": "健康阶段总结",
    "care_plan": "健康干预计划",
    "none_recorded": "暂无记录",
}


def sample(**print_overrides: Any) -> dict[str, Any]:
    printed = {
        "id": "0123456789abcdef0123456789abcdef",
        "at": "2026-12-04 20:30",
        "at_iso": "2026-12-04T20:30:00+08:00",
        "viewer": "王医生",
        "role": "医生",
        "purpose": "诊疗",
        "purpose_code": "care",
        "watermark": "王医生 · 医生 · 2026-12-04 20:30 · 诊疗",
    }
    printed.update(print_overrides)
    return {
        "v": 1,
        "labels": LABELS,
        "print": printed,
        "institution": {"id": "i1", "code": "100001", "name": "康链健康管理中心"},
        "client": {
            "id": "c1",
            "name": "欧阳明月",
            "sex": "男",
            "age": "58",
            "card_number": "1000010000012",
            "document_number": "330102196803020011",
            "phone": "13912340000",
            "masked": False,
        },
        "abnormal": [
            {
                "code": "8480-6",
                "indicator": "收缩压",
                "value": "146",
                "unit": "mmHg",
                "flag": "H",
                "range": "90–139",
                "date": "2026-05-01",
            },
            {
                "code": "2345-7",
                "indicator": "空腹血糖",
                "value": "6.3",
                "unit": "mmol/L",
                "flag": "H",
                "range": "3.9–6.0",
                "date": "2026-05-01",
            },
        ],
        "trends": [
            {
                "code": "8480-6",
                "name": "收缩压",
                "unit": "mmHg",
                "low": "90",
                "high": "139",
                "points": [
                    {"at": "2024-05-01", "value": "138", "flag": "N"},
                    {"at": "2025-05-01", "value": "150", "flag": "H"},
                    {"at": "2026-05-01", "value": "146", "flag": "H"},
                ],
            },
            {
                "code": "2345-7",
                "name": "空腹血糖",
                "unit": "mmol/L",
                "low": "3.9",
                "high": "6.0",
                "points": [
                    {"at": "2025-05-01", "value": "5.9", "flag": "N"},
                    {"at": "2026-05-01", "value": "6.3", "flag": "H"},
                ],
            },
        ],
        "risks": [
            {
                "title": "China-PAR 10年心血管病风险",
                "result": "12.3%（高危）",
                "inputs": ["年龄 58（登记信息）", "收缩压 146 mmHg（检查结果 2026-05-01）"],
                "citation": "Yang X, et al. Circulation 2016;134:1430–1440.",
            },
        ],
        "advice": {
            "issued": "2026-06-01 由 李健康管理师 签发",
            "sections": [
                {
                    "domain": "饮食",
                    "items": [
                        {
                            "title": "限盐",
                            "body": "每日食盐不超过5克。" * 8,
                            "citation": "中国居民膳食指南（2022）",
                        }
                    ],
                },
            ],
            "note": "坚持每天快走",
        },
        "tags": ["高血压", "空腹血糖受损"],
        "not_recorded": ["stage_summary", "care_plan"],
    }
