#!/usr/bin/env python3
"""Draws the reset pipeline (README, "What a reset does") as docs/pipeline/pipeline.svg.

Usage: make_pipeline_svg.py [OUTPUT]   (default: pipeline.svg beside this script)
       make_pipeline_svg.py --check     (exit 1 when the committed pipeline.svg is not what this draws)

The SVG is committed; the ctest `docs.pipeline_svg_is_generated` regenerates it and fails when
the committed file differs, so the picture cannot drift from this description of it. Standard
library only.
"""

import sys
from pathlib import Path
from xml.sax.saxutils import escape

# The phases, in order: (name, what it does, durable checkpoint written at its end?).
PHASES = [
    ("detect", "a server error or the Welcome's\npositions become a ResetTrigger", False),
    ("guard", "pending-reset record committed\nalone; resume or escalate", True),
    ("backup", "before-state and unsynced\nchanges made durable", True),
    ("fetch", "fresh copy streamed into\nstaging, checksummed", True),
    ("recover", "decode, then re-apply local\nchanges under the rules", True),
    ("commit", "keeping rule, then ONE\natomic store transaction", True),
    ("notify", "before/after callbacks,\nthe ResetReport", False),
    ("replay", "recovered changesets uploaded,\nidempotent keys", False),
    ("acknowledge", "record cleared once the\nserver acknowledged", True),
]

BOX_W, BOX_H, GAP, ROW_GAP = 190, 78, 40, 120
PER_ROW = 5
MARGIN = 30
FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"


def box_origin(i: int) -> tuple[int, int]:
    row, col = divmod(i, PER_ROW)
    if row % 2 == 1:  # the second row runs right to left, so the path snakes
        col = PER_ROW - 1 - col
    return MARGIN + col * (BOX_W + GAP), MARGIN + 40 + row * (BOX_H + ROW_GAP)


def text_lines(x: float, y: float, text: str, size: int, weight: str = "normal", anchor: str = "middle") -> str:
    out = []
    for k, line in enumerate(text.split("\n")):
        out.append(f"<text x='{x:.0f}' y='{y + k * (size + 3):.0f}' font-size='{size}' font-weight='{weight}' "
                   f"text-anchor='{anchor}' {FONT} fill='#1b1f24'>{escape(line)}</text>")
    return "\n".join(out)


def arrow(x1: float, y1: float, x2: float, y2: float, dashed: bool = False, colour: str = "#57606a") -> str:
    dash = " stroke-dasharray='6 4'" if dashed else ""
    return (f"<line x1='{x1:.0f}' y1='{y1:.0f}' x2='{x2:.0f}' y2='{y2:.0f}' stroke='{colour}' stroke-width='2'"
            f"{dash} marker-end='url(#head)'/>")


def draw() -> str:
    rows = (len(PHASES) + PER_ROW - 1) // PER_ROW
    width = 2 * MARGIN + PER_ROW * BOX_W + (PER_ROW - 1) * GAP
    height = MARGIN + 40 + rows * BOX_H + (rows - 1) * ROW_GAP + 150
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}'>",
        "<defs><marker id='head' markerWidth='10' markerHeight='8' refX='9' refY='4' orient='auto'>"
        "<path d='M0,0 L10,4 L0,8 z' fill='#57606a'/></marker></defs>",
        f"<rect width='{width}' height='{height}' fill='#ffffff'/>",
        text_lines(MARGIN, MARGIN + 8, "A client reset in resync: a pipeline of durable steps", 18, "bold", "start"),
    ]
    for i, (name, what, durable) in enumerate(PHASES):
        x, y = box_origin(i)
        fill = "#ddf4ff" if durable else "#f6f8fa"
        parts.append(f"<rect x='{x}' y='{y}' width='{BOX_W}' height='{BOX_H}' rx='10' fill='{fill}' "
                     f"stroke='#0969da' stroke-width='{2 if durable else 1}'/>")
        parts.append(text_lines(x + BOX_W / 2, y + 22, f"{i + 1}. {name}", 15, "bold"))
        parts.append(text_lines(x + BOX_W / 2, y + 44, what, 11))
        if durable:  # a small disk: the checkpoint written at the end of the step
            cx, cy = x + BOX_W - 14, y + 14
            parts.append(f"<ellipse cx='{cx}' cy='{cy - 4}' rx='7' ry='3' fill='#0969da'/>"
                         f"<rect x='{cx - 7}' y='{cy - 4}' width='14' height='9' fill='#0969da'/>"
                         f"<ellipse cx='{cx}' cy='{cy + 5}' rx='7' ry='3' fill='#0969da'/>")
        if i + 1 < len(PHASES):
            nx, ny = box_origin(i + 1)
            if ny == y:
                if nx > x:
                    parts.append(arrow(x + BOX_W, y + BOX_H / 2, nx - 2, ny + BOX_H / 2))
                else:
                    parts.append(arrow(x, y + BOX_H / 2, nx + BOX_W + 2, ny + BOX_H / 2))
            else:
                parts.append(arrow(x + BOX_W / 2, y + BOX_H, nx + BOX_W / 2, ny - 2))

    # What happens off the straight path.
    rx, ry = box_origin(PHASES.index(next(p for p in PHASES if p[0] == "recover")))
    parts.append(text_lines(rx + BOX_W / 2 - 10, ry + BOX_H + 30,
                            "recovery fails or is forbidden:\nthe strategy's fallback (discard\nor manual), same attempt", 11,
                            anchor="end"))
    bx, by = box_origin(2)
    parts.append(text_lines(bx + BOX_W / 2, by + BOX_H + 24,
                            "Manual: stop here and wait\nfor execute_reset()", 11))
    legend_y = height - 70
    parts.append(f"<rect x='{MARGIN}' y='{legend_y}' width='18' height='14' rx='3' fill='#ddf4ff' stroke='#0969da' stroke-width='2'/>")
    parts.append(text_lines(MARGIN + 26, legend_y + 12,
                            "ends in a durable checkpoint in the pending-reset record: a crash resumes the same attempt from here", 12,
                            anchor="start"))
    parts.append(text_lines(MARGIN, legend_y + 38,
                            "Anything that fails before the commit leaves the live data and the unsynced changes untouched; "
                            "the attempt is retried after a backoff.", 12, anchor="start"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> int:
    committed = Path(__file__).with_name("pipeline.svg")
    if sys.argv[1:] == ["--check"]:
        if committed.exists() and committed.read_text() == draw():
            return 0
        print(f"{committed} is not what {Path(__file__).name} draws: run it and commit the result", file=sys.stderr)
        return 1
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else committed
    out.write_text(draw())
    return 0


if __name__ == "__main__":
    sys.exit(main())
