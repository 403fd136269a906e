"""The official Chinese format (GB/T 9704-2012) in Word: page, grid, fonts and sizes, the red mark and rule, the number
and date formats, the 版记 and the page numbers, the letter and minutes variants; read back from the produced .docx and
opened with LibreOffice."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from lxml import etree

from docstore.directives import wordgb
from docstore.directives.content import Content, parse_body
from tests.word_support import NS, W, part_xml, pdf_of, pdf_reader_of, placed_lines, placed_text, read_docx

# From 国办函〔2018〕71号 (the State Council's plan for government websites), with a table added.
BODY = """为贯彻落实党中央、国务院关于加强全国网络安全和信息化工作有关部署，推进政府网站互联互通融合发展，现就开展政府
网站集约化试点工作，制定以下方案。

# 总体要求

## 指导思想

以习近平新时代中国特色社会主义思想为指导，全面贯彻党的十九大和十九届二中、三中全会精神，坚持以人民为中心的发
展思想，牢固树立新发展理念，认真落实党中央、国务院决策部署，打通信息壁垒、推进集约共享，提升政府网站管理和服
务水平，努力建设整体联动、高效惠民的网上政府。

## 基本原则

### 问题导向

针对政府网站存在的建设分散、数据不通、使用不便等突出问题，建设基于统一信息资源库的政府网站集约化平台，以信息
资源共享共用带动试点地区政府网站整体服务水平的提升。

#### 开放融合

坚持创新驱动，积极运用大数据、云计算、人工智能等技术，探索构建互联融通的平台架构，支撑新技术、新应用、新功能
的无缝对接，能够随技术发展变化持续升级和灵活扩展。

# 试点任务

试点地区要认真组织实施，按照统一标准体系、统一技术平台、统一安全防护、统一运维监管的要求，推进数据融通、服务
融通、应用融通，重点做好以下工作：

- 建设集约化平台。平台建设可采用省级统建模式，也可根据实际情况选择省级、地市级分建模式。
- 形成标准规范。编制集约化平台建设标准，对平台上各类信息数据的分类、格式和接口等提出要求。
- 构建信息资源库。建设分类科学、集中规范、共享共用的全平台统一信息资源库。

| 试点地区 | 牵头单位 | 完成时间 |
| 北京市 | 市政府办公厅 | 2019年12月 |
| 安徽省 | 省政府办公厅 | 2019年12月 |

# 工作进度

强化安全保障。严格落实网络安全法和关键信息基础设施安全保护有关要求，加强网络安全等级保护工作，优先采购国产软
硬件系统设备。要确保安全技术措施与集约化平台同步规划、同步建设、同步运行，对攻击、侵入和破坏集约化平台及系统
的行为采取防范措施。明确集约化平台运营者与政府网站运营者的安全管理责任，政府网站在向集约化平台迁移前要进行安
全评估和安全加固。建立安全监测预警机制，对异常情况及时报警和处置。"""

SHORT_BODY = "《政府网站集约化试点工作方案》已经国务院领导同志同意，现印发给你们，请认真贯彻执行。"
MM = 72 / 25.4  # points
A4_HEIGHT = 297 * MM
TEXT_TOP = A4_HEIGHT - 37 * MM  # the top of the text area, in points from the bottom of the page
TEXT_BOTTOM = 35 * MM


def notice(**changes) -> Content:
    """Return a complete notice in the standard format, with `changes`."""
    content = Content(
        kind="notice",
        language="zh",
        issuer="国务院办公厅",
        issuer_mark="国务院办公厅文件",
        title="国务院办公厅关于印发政府网站集约化试点工作方案的通知",
        body=parse_body(BODY),
        number="国办函〔2026〕12号",
        main_recipients=("各省、自治区、直辖市人民政府", "国务院各部委、各直属机构"),
        copy_recipients=("中共中央办公厅", "全国人大常委会办公厅", "全国政协办公厅"),
        urgency="特急",
        signed_on=date(2026, 7, 1),
        attachments=("政府网站集约化试点工作方案", "试点地区名单"),
        note="此件公开发布",
    )
    return replace(content, **changes)


def letter(**changes) -> Content:
    """Return a short letter (函) in the letter format, with `changes`."""
    return notice(
        kind="letter",
        issuer_mark="国务院办公厅",
        title="国务院办公厅关于同意开展政府网站集约化试点的函",
        body=parse_body(SHORT_BODY),
        main_recipients=("北京市人民政府",),
        copy_recipients=("国务院办公厅秘书局",),
        number="国办函〔2026〕7号",
        urgency="",
        attachments=(),
        **changes,
    )


def minutes(**changes) -> Content:
    """Return minutes (纪要) with their attendance lists, with `changes`."""
    return notice(
        kind="minutes",
        issuer_mark="国务院常务会议纪要",
        title="",
        number="第5期",
        body=parse_body(
            "2026年6月30日，国务院总理主持召开国务院常务会议，研究政府网站集约化试点工作。\n\n" + SHORT_BODY
        ),
        main_recipients=(),
        urgency="",
        attachments=(),
        note="",
        extra={
            "present": parse_body("李明、王芳、张伟、刘洋"),
            "absent": parse_body("陈静（出差）"),
            "attending": parse_body("国务院办公厅秘书局、电子政务办公室负责同志"),
        },
        **changes,
    )


def paragraphs_of(data: bytes) -> list[tuple[str, str]]:
    """Return (style name, text) of each paragraph of the body, read back with python-docx."""
    return [(paragraph.style.name, paragraph.text) for paragraph in read_docx(data).paragraphs]


def styled(data: bytes, style: str) -> list[str]:
    """Return the texts of the paragraphs of `style`."""
    return [text for name, text in paragraphs_of(data) if name == style]


def style_element(data: bytes, name: str):
    """Return the <w:style> named `name` in the styles part."""
    return part_xml(data, "word/styles.xml").xpath(f"w:style[w:name/@w:val='{name}']", namespaces=NS)[0]


def text_of(element) -> str:
    """Return the text of the runs under `element` (python-docx's own elements give odd results to itertext)."""
    return "".join(node.text or "" for node in element.iter(f"{{{W}}}t"))


def attribute(element, path: str, name: str) -> str | None:
    """Return attribute w:`name` of the first element at `path` under `element`."""
    found = etree.XPath(path, namespaces=NS)(element)  # python-docx's elements take no `namespaces`
    return found[0].get(f"{{{W}}}{name}") if found else None


@pytest.fixture(scope="module")
def standard() -> bytes:
    return wordgb.render(notice(), "gb")


# --- page, grid, fonts ----------------------------------------------------------------------------------------------


def test_page_is_a4_with_the_margins_of_the_standard(standard):
    sect = part_xml(standard).find("w:body/w:sectPr", NS)
    assert attribute(sect, "w:pgSz", "w") == "11906"
    assert attribute(sect, "w:pgSz", "h") == "16838"
    margins = {side: attribute(sect, "w:pgMar", side) for side in ("top", "bottom", "left", "right")}
    assert margins == {"top": "2098", "bottom": "1984", "left": "1587", "right": "1474"}


def test_document_grid_holds_22_lines_of_28_characters(standard):
    grid = part_xml(standard).find("w:body/w:sectPr/w:docGrid", NS)
    assert grid.get(f"{{{W}}}type") == "linesAndChars"
    pitch, char_space = int(grid.get(f"{{{W}}}linePitch")), int(grid.get(f"{{{W}}}charSpace"))
    assert pitch == 579
    assert (16838 - 2098 - 1984) // pitch == 22
    # Word adds charSpace (1/4096 pt) to the default size to get the character pitch.
    assert int((11906 - 1587 - 1474) / 20 / (16 + char_space / 4096)) == 28


def test_default_type_is_16_point_fangsong_set_for_east_asian_text(standard):
    defaults = part_xml(standard, "word/styles.xml").find("w:docDefaults/w:rPrDefault/w:rPr", NS)
    assert attribute(defaults, "w:sz", "val") == "32"
    assert attribute(defaults, "w:rFonts", "eastAsia") == "仿宋_GB2312"
    assert attribute(defaults, "w:rFonts", "ascii") == "Times New Roman"
    assert attribute(defaults, "w:lang", "eastAsia") == "zh-CN"


def test_no_theme_font_is_left_to_override_the_named_fonts(standard):
    for part in ("word/styles.xml", "word/document.xml", "word/footer1.xml"):
        for fonts in part_xml(standard, part).iter(f"{{{W}}}rFonts"):
            assert not [name for name in fonts.attrib if "heme" in name], part


def test_every_run_and_style_names_its_east_asian_font(standard):
    runs = part_xml(standard).iter(f"{{{W}}}r")
    assert all(attribute(run, "w:rPr/w:rFonts", "eastAsia") for run in runs)
    for name in ("正文", "标题", "发文机关标志", "一级标题", "版记", "页码"):
        assert attribute(style_element(standard, name), "w:rPr/w:rFonts", "eastAsia"), name


def test_body_is_indented_two_characters(standard):
    body = style_element(standard, "正文")
    assert attribute(body, "w:pPr/w:ind", "firstLineChars") == "200"
    assert attribute(body, "w:pPr/w:jc", "val") == "both"


def test_font_table_names_a_stand_in_for_each_chinese_font(standard):
    fonts = part_xml(standard, "word/fontTable.xml")
    expected = {
        "仿宋_GB2312": "仿宋",
        "楷体_GB2312": "楷体",
        "黑体": "SimHei",
        "方正小标宋简体": "华文中宋",
        "宋体": "SimSun",
    }
    for name, stand_in in expected.items():
        font = fonts.xpath(f"w:font[@w:name='{name}']", namespaces=NS)[0]
        assert attribute(font, "w:altName", "val") == stand_in
        assert attribute(font, "w:charset", "val") == "86"


# --- elements -------------------------------------------------------------------------------------------------------


def test_each_element_has_its_own_named_style(standard):
    names = {name for name, _ in paragraphs_of(standard)}
    assert {
        "紧急程度",
        "发文机关标志",
        "发文字号",
        "标题",
        "主送机关",
        "正文",
        "一级标题",
        "二级标题",
        "三级标题",
        "四级标题",
        "附件说明",
        "署名",
        "成文日期",
        "附注",
    } <= names
    assert styled(standard, "标题") == ["国务院办公厅关于印发政府网站集约化试点工作方案的通知"]
    assert styled(standard, "主送机关") == ["各省、自治区、直辖市人民政府，国务院各部委、各直属机构："]
    assert styled(standard, "紧急程度") == ["特急"]


def test_mark_is_red_xiaobiaosong_centred_35_mm_below_the_top_of_the_text_area(standard):
    mark = part_xml(standard).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbMark']", namespaces=NS)[0]
    assert text_of(mark) == "国务院办公厅文件"
    assert attribute(mark, "w:r/w:rPr/w:color", "val") == "FF0000"
    assert attribute(mark, "w:r/w:rPr/w:rFonts", "eastAsia") == "方正小标宋简体"
    assert attribute(style_element(standard, "发文机关标志"), "w:pPr/w:jc", "val") == "center"
    size = int(attribute(mark, "w:r/w:rPr/w:sz", "val")) / 2
    assert 22 <= size <= 52
    assert 8 * size <= (11906 - 1587 - 1474) / 20  # the mark fits on one line
    # One grid line (特急) plus the space before plus the ink's offset in its line make 35 mm.
    before = int(attribute(mark, "w:pPr/w:spacing", "before"))
    line = int(attribute(mark, "w:pPr/w:spacing", "line"))
    ink_top = 579 + before + 0.8 * line - 0.84 * size * 20
    assert ink_top == pytest.approx(35 * 1440 / 25.4, abs=20)


def test_red_rule_is_a_red_bottom_border_4_mm_under_the_number(standard):
    number = part_xml(standard).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbNumber']", namespaces=NS)[0]
    assert text_of(number) == "国办函〔2026〕12号"
    assert attribute(style_element(standard, "发文字号"), "w:pPr/w:jc", "val") == "center"
    assert attribute(number, "w:pPr/w:pBdr/w:bottom", "color") == "FF0000"
    assert attribute(number, "w:pPr/w:pBdr/w:bottom", "val") == "single"
    # 4.2 pt of the exact 28.95 pt line lie under the ink; the border's space makes up the 4 mm (11.3 pt).
    assert int(attribute(number, "w:pPr/w:pBdr/w:bottom", "space")) + 4.2 == pytest.approx(4 * 72 / 25.4, abs=1)


def test_title_is_22_point_xiaobiaosong_centred(standard):
    title = style_element(standard, "标题")
    assert attribute(title, "w:rPr/w:sz", "val") == "44"
    assert attribute(title, "w:rPr/w:rFonts", "eastAsia") == "方正小标宋简体"
    assert attribute(title, "w:pPr/w:jc", "val") == "center"


def test_heading_fonts_follow_the_level(standard):
    fonts = {
        name: attribute(style_element(standard, name), "w:rPr/w:rFonts", "eastAsia")
        for name in ("一级标题", "二级标题", "三级标题", "四级标题")
    }
    assert fonts == {
        "一级标题": "黑体",
        "二级标题": "楷体_GB2312",
        "三级标题": "仿宋_GB2312",
        "四级标题": "仿宋_GB2312",
    }
    assert styled(standard, "一级标题") == ["一、总体要求", "二、试点任务", "三、工作进度"]
    assert styled(standard, "二级标题") == ["（一）指导思想", "（二）基本原则"]
    assert styled(standard, "三级标题") == ["1.问题导向"]
    assert styled(standard, "四级标题") == ["（1）开放融合"]


def test_points_print_their_numbers_before_the_text(standard):
    points = [text for text in styled(standard, "正文") if re.match(r"\d\.", text)]
    assert [text[:9] for text in points] == ["1.建设集约化平台", "2.形成标准规范。", "3.构建信息资源库"]


def test_table_is_bordered_with_its_header_row_in_heiti(standard):
    document = read_docx(standard)
    table = document.tables[0]  # the 版记 is the second
    assert [cell.text for cell in table.rows[0].cells] == ["试点地区", "牵头单位", "完成时间"]
    assert table.rows[1].cells[0].text == "北京市"
    tbl = table._tbl
    assert attribute(tbl, "w:tblPr/w:tblBorders/w:insideV", "val") == "single"
    assert attribute(tbl, "w:tr[1]/w:tc[1]/w:p/w:r/w:rPr/w:rFonts", "eastAsia") == "黑体"
    assert attribute(tbl, "w:tr[2]/w:tc[1]/w:p/w:r/w:rPr/w:rFonts", "eastAsia") == "仿宋_GB2312"
    assert attribute(style_element(standard, "表格"), "w:rPr/w:sz", "val") == "28"


def test_attachments_note_numbers_the_names_and_aligns_wrapped_lines(standard):
    assert styled(standard, "附件说明") == ["附件：1.\t政府网站集约化试点工作方案", "2.\t试点地区名单"]
    first, second = part_xml(standard).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbAttachments']", namespaces=NS)
    left = attribute(first, "w:pPr/w:ind", "left")
    # Wrapped lines and the second name start where the first name does: at the tab, which is the left indent.
    assert left == attribute(second, "w:pPr/w:ind", "left") == attribute(first, "w:pPr/w:tabs/w:tab", "pos")
    assert int(left) - int(attribute(first, "w:pPr/w:ind", "hanging")) == 2 * 316  # "附件" 2 characters in
    single = wordgb.render(notice(attachments=("试点地区名单。",)), "gb")
    assert styled(single, "附件说明") == ["附件：试点地区名单"]


def test_signature_and_date_follow_the_rule_for_unsealed_documents(standard):
    assert styled(standard, "署名") == ["国务院办公厅"]
    assert styled(standard, "成文日期") == ["2026年7月1日"]
    signature, day = (
        part_xml(standard).xpath(f"//w:p[w:pPr/w:pStyle/@w:val='{style}']", namespaces=NS)[0]
        for style in ("GbSignature", "GbDate")
    )
    # The date (6 characters wide) is 2 characters in from the right; the issuer starts 2 characters before it.
    assert attribute(day, "w:pPr/w:ind", "right") == str(2 * 316)
    assert attribute(signature, "w:pPr/w:ind", "right") == str(4 * 316)
    assert attribute(signature, "w:pPr/w:spacing", "before") == "579"  # one blank line under the body
    assert styled(standard, "附注") == ["（此件公开发布）"]


def test_dates_have_no_leading_zeros():
    data = wordgb.render(notice(signed_on=date(2026, 1, 5)), "gb")
    assert styled(data, "成文日期") == ["2026年1月5日"]
    assert read_docx(data).tables[-1].rows[-1].cells[0].text.endswith("\t2026年1月5日印发")


def test_number_puts_the_year_in_tortoise_brackets_without_leading_zeros():
    assert wordgb.document_number("国办函[2026]012号") == "国办函〔2026〕12号"
    assert wordgb.document_number("国办发【2026】第3号") == "国办发〔2026〕3号"
    assert wordgb.document_number("京政发（2026）10号") == "京政发〔2026〕10号"
    data = wordgb.render(notice(number="国办函【2026】012号"), "gb")
    assert styled(data, "发文字号") == ["国办函〔2026〕12号"]


def test_draft_without_a_number_keeps_the_rule_and_prints_no_brackets():
    data = wordgb.render(notice(number=""), "gb")
    assert styled(data, "发文字号") == [""]
    text = "\n".join(text for _, text in paragraphs_of(data))
    assert not re.search(r"[〔〕\[\]【】]", text)
    number = part_xml(data).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbNumber']", namespaces=NS)[0]
    assert attribute(number, "w:pPr/w:pBdr/w:bottom", "color") == "FF0000"


def test_upward_type_puts_the_signer_on_the_number_line():
    data = wordgb.render(notice(kind="request", number="国办发〔2026〕1号", signer="张明"), "gb")
    assert styled(data, "发文字号") == ["\t国办发〔2026〕1号\t签发人：张明"]
    line = part_xml(data).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbNumber']", namespaces=NS)[0]
    runs = line.findall("w:r", NS)
    assert attribute(runs[0], "w:rPr/w:rFonts", "eastAsia") == "仿宋_GB2312"  # the number and the label
    assert attribute(runs[1], "w:rPr/w:rFonts", "eastAsia") == "楷体_GB2312"  # the name
    # The number 1 character in from the left, the name 1 character in from the right; the rule stays full width.
    tabs = [(tab.get(f"{{{W}}}val"), tab.get(f"{{{W}}}pos")) for tab in line.iterfind("w:pPr/w:tabs/w:tab", NS)]
    assert tabs == [("left", "316"), ("right", str(8845 - 316))]
    assert line.find("w:pPr/w:ind", NS) is None
    assert attribute(line, "w:pPr/w:pBdr/w:bottom", "color") == "FF0000"


def test_classified_document_shows_copy_number_and_classification_top_left():
    data = wordgb.render(notice(copy_number="000123", classification="机密★1年"), "gb")
    assert [text for _, text in paragraphs_of(data)][:4] == ["000123", "机密★1年", "特急", "国务院办公厅文件"]
    assert attribute(style_element(data, "密级"), "w:rPr/w:rFonts", "eastAsia") == "黑体"
    mark = part_xml(data).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbMark']", namespaces=NS)[0]
    single = part_xml(wordgb.render(notice(), "gb")).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbMark']", namespaces=NS)[0]
    # Two more grid lines above the mark take two lines from its space before: it stays 35 mm down.
    before = int(attribute(mark, "w:pPr/w:spacing", "before"))
    assert before == int(attribute(single, "w:pPr/w:spacing", "before")) - 2 * 579


# --- the 版记 and the page numbers --------------------------------------------------------------------------------


def test_imprint_sits_between_thick_rules_with_a_thin_one_between(standard):
    table = read_docx(standard).tables[-1]
    assert [row.cells[0].text for row in table.rows] == [
        "抄送：中共中央办公厅，全国人大常委会办公厅，全国政协办公厅。",
        "国务院办公厅\t2026年7月1日印发",
    ]
    tbl = table._tbl
    borders = {side: attribute(tbl, f"w:tblPr/w:tblBorders/w:{side}", "sz") for side in ("top", "bottom", "insideH")}
    assert borders == {"top": "8", "bottom": "8", "insideH": "6"}
    # Floated to the foot of the text area of the page where it is anchored: the last one.
    assert attribute(tbl, "w:tblPr/w:tblpPr", "tblpYSpec") == "bottom"
    assert attribute(tbl, "w:tblPr/w:tblpPr", "vertAnchor") == "margin"
    assert attribute(style_element(standard, "版记"), "w:rPr/w:sz", "val") == "28"
    assert part_xml(standard).find("w:body", NS)[-3].tag == f"{{{W}}}tbl"  # then its anchor and sectPr


def test_page_numbers_are_14_point_songti_odd_right_even_left(standard):
    settings = part_xml(standard, "word/settings.xml")
    assert settings.find("w:evenAndOddHeaders", NS) is not None
    document = read_docx(standard)
    section = document.sections[0]
    for footer, side in ((section.footer, "right"), (section.even_page_footer, "left")):
        paragraph = footer._element.find("w:p", NS)
        assert text_of(paragraph) == "— 1 —"
        assert attribute(paragraph, "w:fldSimple", "instr").strip() == "PAGE"
        assert attribute(paragraph, "w:pPr/w:jc", "val") == side
        assert attribute(paragraph, "w:pPr/w:ind", side) == "280"  # one 4号 character in
        for run in paragraph.iter(f"{{{W}}}r"):
            assert attribute(run, "w:rPr/w:rFonts", "eastAsia") == "宋体"
    assert attribute(style_element(standard, "页码"), "w:rPr/w:sz", "val") == "28"


# --- letter and minutes ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def letter_file() -> bytes:
    return wordgb.render(letter(), "gb_letter")


def test_letter_puts_its_issuer_and_red_double_lines_in_page_1_header_and_footer(letter_file):
    section = read_docx(letter_file).sections[0]
    assert section.different_first_page_header_footer
    header = section.first_page_header._element.find("w:p", NS)
    assert text_of(header) == "国务院办公厅"
    assert attribute(header, "w:r/w:rPr/w:color", "val") == "FF0000"
    # 30 mm from the top edge to the ink of the name.
    distance = section.header_distance.twips
    line = int(attribute(header, "w:pPr/w:spacing", "line"))
    size = int(attribute(header, "w:r/w:rPr/w:sz", "val")) / 2
    assert distance + 0.8 * line - 0.84 * size * 20 == pytest.approx(30 * 1440 / 25.4, abs=20)
    # Thick over thin under the name, thin over thick at the foot: "thickThin" draws the thick line on the text's side.
    first = attribute(header, "w:pPr/w:pBdr/w:bottom", "val")
    assert first == "thickThinSmallGap" and attribute(header, "w:pPr/w:pBdr/w:bottom", "color") == "FF0000"
    # Both lines are 170 mm long: 7 mm past each side of the 156 mm text area.
    assert attribute(header, "w:pPr/w:ind", "left") == attribute(header, "w:pPr/w:ind", "right") == "-397"
    footer = section.first_page_footer._element.find("w:p", NS)
    assert attribute(footer, "w:pPr/w:pBdr/w:top", "val") == "thickThinSmallGap"
    assert attribute(footer, "w:pPr/w:pBdr/w:top", "color") == "FF0000"
    assert footer.find("w:fldSimple", NS) is None  # no page number on page 1
    assert section.footer_distance.twips + 20 == pytest.approx(20 * 1440 / 25.4, abs=2)


def test_letter_number_stands_flush_right_and_its_imprint_has_no_printing_line(letter_file):
    number = part_xml(letter_file).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbNumber']", namespaces=NS)[0]
    assert text_of(number) == "国办函〔2026〕7号"
    assert attribute(number, "w:pPr/w:jc", "val") == "right"
    table = read_docx(letter_file).tables[-1]
    assert [row.cells[0].text for row in table.rows] == ["抄送：国务院办公厅秘书局。"]
    assert table._tbl.find("w:tblPr/w:tblBorders", NS) is None
    assert styled(letter_file, "发文机关标志") == []  # the mark is in the header, not in the body


def test_minutes_list_attendance_with_heiti_labels_and_have_no_signature():
    data = wordgb.render(minutes(), "gb_minutes")
    assert styled(data, "发文机关标志") == ["国务院常务会议纪要"]
    assert styled(data, "发文字号") == ["第5期", "\t国务院办公厅\t2026年7月1日"]
    assert styled(data, "出席人员") == [
        "出席：李明、王芳、张伟、刘洋",
        "请假：陈静（出差）",
        "列席：国务院办公厅秘书局、电子政务办公室负责同志",
    ]
    assert styled(data, "署名") == styled(data, "成文日期") == styled(data, "标题") == []
    line = part_xml(data).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbAttendance']", namespaces=NS)[0]
    label, names = line.findall("w:r", NS)
    assert attribute(label, "w:rPr/w:rFonts", "eastAsia") == "黑体"
    assert attribute(names, "w:rPr/w:rFonts", "eastAsia") == "仿宋_GB2312"
    rule = part_xml(data).xpath("//w:p[w:pPr/w:pStyle/@w:val='GbNumber']", namespaces=NS)[1]
    assert attribute(rule, "w:pPr/w:pBdr/w:bottom", "color") == "FF0000"


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="oficio"):
        wordgb.render(notice(), "oficio")


def test_same_content_gives_the_same_bytes(standard):
    assert wordgb.render(notice(), "gb") == standard


# --- LibreOffice ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def standard_pdf(standard):
    return pdf_reader_of(standard)


def page_text(reader, index: int) -> str:
    return reader.pages[index].extract_text() or ""


def test_libreoffice_shows_every_element_of_the_notice_on_three_pages(standard_pdf):
    text = "\n".join(page.extract_text() for page in standard_pdf.pages)
    flat = re.sub(r"\s+", "", text)
    for expected in (
        "国务院办公厅文件",
        "国办函〔2026〕12号",
        "国务院办公厅关于印发政府网站集约化试点工作方案的通知",
        "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：",
        "建立安全监测预警机制",
        "附件：1.",
        "2026年7月1日",
        "抄送：中共中央办公厅",
        "2026年7月1日印发",
    ):
        assert expected in flat, expected
    assert len(standard_pdf.pages) == 3
    for index in range(3):
        assert f"— {index + 1} —" in page_text(standard_pdf, index)


def test_libreoffice_places_the_mark_35_mm_below_the_top_of_the_text_area(standard_pdf):
    pieces = placed_text(standard_pdf.pages[0])
    mark = next((x, y, size) for text, x, y, size in pieces if "国务院办公厅文件" in text)
    _, baseline, size = mark
    assert TEXT_TOP - (baseline + 0.84 * size) == pytest.approx(35 * MM, abs=2 * MM)


def test_libreoffice_puts_the_imprint_at_the_foot_of_the_last_page_only(standard_pdf):
    last = len(standard_pdf.pages) - 1
    for index in range(last):
        assert "日印发" not in page_text(standard_pdf, index)
    lines = placed_lines(standard_pdf.pages[last])
    printed = next(y for y, text in lines if text.endswith("2026年7月1日印发"))
    copied = next(y for y, text in lines if text.endswith("。") and y < printed + 40)
    # The 印发 line is the last line of the text area, the end of the 抄送 line the one above it.
    assert TEXT_BOTTOM < printed < TEXT_BOTTOM + 10 * MM
    assert copied - printed == pytest.approx(28.95, abs=2)
    assert any(text.startswith("抄送：中共中央办公厅") for y, text in lines)
    assert any("建立安全监测预警机制" in text for y, text in lines), "the body ends on the 版记's page"


def test_libreoffice_puts_odd_page_numbers_right_and_even_ones_left(standard_pdf):
    width = float(standard_pdf.pages[0].mediabox.width)
    for index in range(len(standard_pdf.pages)):
        numbers = [x for text, x, y, size in placed_text(standard_pdf.pages[index]) if y < TEXT_BOTTOM and "—" in text]
        assert numbers, index
        assert (numbers[0] > width / 2) == (index % 2 == 0)


def test_libreoffice_fills_a_full_page_with_22_lines_of_28_characters(standard_pdf):
    lines = [(y, text) for y, text in placed_lines(standard_pdf.pages[1]) if TEXT_BOTTOM < y < TEXT_TOP]
    assert len(lines) == 22
    assert max(len(text) for y, text in lines) == 28


def test_libreoffice_opens_the_letter_with_its_issuer_30_mm_down_and_no_page_number(letter_file):
    reader = pdf_reader_of(letter_file)
    text = reader.pages[0].extract_text()
    flat = re.sub(r"\s+", "", text)
    for expected in (
        "国务院办公厅",
        "国办函〔2026〕7号",
        "国务院办公厅关于同意开展政府网站集约化试点的函",
        "北京市人民政府：",
        "抄送：国务院办公厅秘书局。",
    ):
        assert expected in flat, expected
    assert "日印发" not in flat  # no printing line (the body says 印发给你们)
    assert "—" not in text
    assert len(reader.pages) == 1
    _, baseline, size = next(
        (x, y, size) for piece, x, y, size in placed_text(reader.pages[0]) if piece == "国务院办公厅"
    )
    assert A4_HEIGHT - (baseline + 0.84 * size) == pytest.approx(30 * MM, abs=2 * MM)


def test_libreoffice_opens_the_minutes():
    text, pages = pdf_of(wordgb.render(minutes(), "gb_minutes"))
    flat = re.sub(r"\s+", "", text)
    for expected in (
        "国务院常务会议纪要",
        "第5期",
        "研究政府网站集约化试点工作",
        "出席：李明",
        "列席：",
        "2026年7月1日印发",
    ):
        assert expected in flat, expected
    assert "— 1 —" in text
    assert pages == 1
