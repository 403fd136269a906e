"""Directives rendered per second for each layout, against a bare python-docx document; memory over 1,000 renders.

The baseline is built in the same run: a python-docx document with the same paragraphs and table as the notice, in
the default template, with no styles, fonts, borders, fields or sections of our own. Each layout and the baseline are
timed in alternating rounds, so that other work on the machine weighs on both alike; the ratio (renders/s ÷ bare
documents/s) says what share of python-docx's own speed a renderer keeps. Then 1,000 directives are rendered in a
row, cycling through the layouts, and the process's memory is sampled every 100 (resident, and held after returning
glibc's free memory to the system): what is held should stay flat.
Figures are printed, nothing is asserted.

    .venv/bin/python bench/bench_directives.py [--rounds 5] [--per-round 20] [--memory-renders 1000]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script (make bench): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docx

from bench.support import describe_machine, held_mb, rss_mb
from docstore.directives import kinds, placeholders
from docstore.directives.content import Content, parse_body
from docstore.directives.render import render_content

ZH_BODY = """为进一步提高公文处理质量，经研究，决定开展年度公文处理工作自查。现将有关事项通知如下。
# 自查内容
## 收文办理
收文登记是否及时、完整，拟办、批办、承办、催办是否形成闭环，办结情况是否及时反馈。
- 收文登记是否及时。
- 催办是否到位。
## 发文办理
发文是否经过核稿、会签、签发和复核，文号是否连续，格式是否符合国家标准。
# 工作要求
各部门要高度重视，认真组织，于规定时间前将自查报告报送办公室。
| 阶段 | 时间 | 责任单位 |
|---|---|---|
| 部门自查 | 3月10日前 | 各部门 |
| 汇总报告 | 3月20日前 | 办公室 |"""

ES_BODY = """En relación con su escrito de referencia, le remito la liquidación del presupuesto del ejercicio, \
aprobada por la Junta de Gobierno, junto con el informe de intervención y los anexos de ejecución.
# Contenido
- Estado de ejecución del presupuesto de gastos.
- Estado de ejecución del presupuesto de ingresos.
| Capítulo | Créditos | Obligaciones |
|---|---|---|
| 1 | 1.200.000 | 1.150.000 |
| 2 | 800.000 | 760.000 |
Quedo a su disposición para cualquier aclaración."""


def contents() -> dict[str, Content]:
    """Return a realistic directive for every built-in layout, and one for an uploaded template."""
    today = date(2026, 7, 1)
    zh = {
        "language": "zh",
        "issuer": "某某市人民政府办公室",
        "issuer_mark": "某某市人民政府办公室文件",
        "number": "市府办发〔2026〕12号",
        "main_recipients": ("各区人民政府", "市政府各部门"),
        "copy_recipients": ("市委办公室", "市人大常委会办公室"),
        "signer": "王明",
        "signed_on": today,
        "attachments": ("公文处理工作自查表", "自查报告提纲"),
        "printer": "某某市人民政府办公室",
    }
    es = {
        "language": "es",
        "issuer": "Ayuntamiento · Área de Hacienda",
        "issuer_mark": "AYUNTAMIENTO\nÁrea de Hacienda\nServicio de Presupuestos",
        "number": "HAC-S/2026/0012",
        "main_recipients": ("Ayuntamiento de Madrid",),
        "signer": "Carmen Ruiz",
        "signer_title": "La Directora General",
        "signed_on": today,
        "place": "Madrid",
        "their_reference": "L01280796/2026/118",
        "address": "Calle Mayor 1, 28013 Madrid",
    }
    extra = {
        "background": parse_body("- Se convocaron ayudas.\n- Se presentaron 42 solicitudes.", "es"),
        "grounds": parse_body("- Es competente esta Dirección.", "es"),
        "resolved": parse_body("- Conceder las ayudas.\n- Publicar la resolución.", "es"),
        "appeal": parse_body(kinds.DEFAULT_APPEAL, "es"),
        "present": parse_body("王明、李华、张伟", "zh"),
        "absent": parse_body("赵强", "zh"),
        "attending": parse_body("办公室 刘洋", "zh"),
    }
    made = {}
    for code, kind in kinds.KINDS.items():
        values = zh if kind.language == "zh" else es
        body = parse_body(ZH_BODY if kind.language == "zh" else ES_BODY, kind.language)
        made[kind.layout] = Content(
            kind=code,
            title=f"关于开展自查的{kind.name}" if kind.language == "zh" else f"{kind.name}: remisión de la liquidación",
            body=body,
            extra=extra,
            **values,
        )
    made["template"] = Content(
        kind="template", title="Remisión de la liquidación", body=parse_body(ES_BODY, "es"), **es
    )
    return made


def uploaded_template() -> bytes:
    """Return a small office template with placeholders, as an administrator would upload it."""
    document = docx.Document()
    document.add_paragraph("{{ issuer }}")
    document.add_paragraph("N/REF.: {{ number }}    FECHA: {{ date }}")
    document.add_paragraph("ASUNTO: {{ title }}")
    document.add_paragraph("{{ body }}")
    document.add_paragraph("{% for r in main_recipients %}")
    document.add_paragraph("{{ r }}")
    document.add_paragraph("{% endfor %}")
    document.add_paragraph("{{ signer }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def bare(content: Content) -> bytes:
    """Return the baseline: the same paragraphs and table in a plain python-docx document."""
    document = docx.Document()
    document.add_paragraph(content.title)
    for block in content.body:
        if block.kind == "table":
            table = document.add_table(rows=len(block.rows), cols=len(block.rows[0]))
            for row, values in zip(table.rows, block.rows, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
        else:
            document.add_paragraph(block.full_text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rate(function, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        function()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per layout")
    parser.add_argument("--per-round", type=int, default=20, help="renders per round")
    parser.add_argument("--memory-renders", type=int, default=1000, help="renders in a row for the memory check")
    args = parser.parse_args()
    print(f"Machine: {describe_machine()}")
    made = contents()
    template = uploaded_template()
    placeholders.inspect_template(template)

    def renderer(layout: str):
        content = made[layout]
        return lambda: render_content(content, layout, template if layout == "template" else None)

    for layout in made:  # warm up: imports, styles, fonts
        renderer(layout)()
        bare(made[layout])
    print(f"\nRenders per second, {args.rounds} alternating rounds of {args.per_round} (median of rounds):")
    print(f"  {'layout':<14}{'renders/s':>11}{'bare docs/s':>13}{'ratio':>8}{'size KB':>9}")
    for layout in made:
        ours, base = [], []
        for _ in range(args.rounds):
            ours.append(rate(renderer(layout), args.per_round))
            base.append(rate(lambda layout=layout: bare(made[layout]), args.per_round))
        mine, theirs = statistics.median(ours), statistics.median(base)
        size = len(renderer(layout)()) / 1024
        print(f"  {layout:<14}{mine:>11.1f}{theirs:>13.1f}{mine / theirs:>8.2f}{size:>9.1f}")
    layouts = list(made)
    samples = []
    for n in range(args.memory_renders):
        renderer(layouts[n % len(layouts)])()
        if n % 100 == 0 or n == args.memory_renders - 1:
            rss = rss_mb()
            samples.append((n + 1, rss, held_mb()))
    print(f"\nMemory over {args.memory_renders} renders in a row, MB after N renders (RSS / held after malloc_trim):")
    print("  " + "  ".join(f"{n}: {rss:.0f}/{held:.0f}" for n, rss, held in samples))
    print(f"  held memory growth after the first 100: {samples[-1][2] - samples[1][2]:+.1f} MB")


if __name__ == "__main__":
    main()
