"""Masking of identifiers for roles that must not see them in full (pure)."""

from careledger.access import masking


def test_names():
    assert masking.mask_name("张三明") == "张*明"
    assert masking.mask_name("张三") == "张*"
    assert masking.mask_name("张") == "*"
    assert masking.mask_name("欧阳明月") == "欧**月"
    assert masking.mask_name("John Smith") == "J*** S****"
    assert masking.mask_name("阿依古丽·买买提") == "阿**丽·买*提"
    assert masking.mask_name(None) == masking.mask_name("") == ""


def test_phone_document_address_card():
    assert masking.mask_phone("13812345678") == "138****5678"
    assert masking.mask_phone("123") == "***"
    assert masking.mask_document("330102199001011234") == "330102********1234"
    assert masking.mask_document("E12345678") == "E1*****78"
    assert masking.mask_address("浙江省杭州市西湖区文三路100号") == "浙江省杭州市****"
    assert masking.mask_address("北京") == "**"
    assert masking.mask_card_number("1001000000015") == "*********0015"
