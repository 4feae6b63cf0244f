"""Sanitizers: tables of good and bad input, then properties checked by hypothesis."""

import csv
import io
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errors import Refusal
from sanitization.csv_cells import MAX_CELL_CHARS, TRUNCATION_MARKER, neutralise_csv_cell
from sanitization.filenames import (
    MAX_FILENAME_CHARS,
    clean_display_filename,
    file_extension,
)
from sanitization.names import clean_room_code, clean_username, truncate_for_log
from sanitization.text import MAX_MESSAGE_CHARS, clean_message_text

BIDI_CONTROLS = [chr(cp) for cp in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ASCII_LETTERS_DIGITS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
FAST = settings(max_examples=200, deadline=None)


def is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


# --- Refusal -------------------------------------------------------------------------


def test_a_refusal_carries_status_code_and_the_message_people_read():
    error = Refusal(400, "too_long", "Demasiado largo.")
    assert (error.status, error.code, error.message, str(error)) == (
        400,
        "too_long",
        "Demasiado largo.",
        "Demasiado largo.",
    )


# --- usernames -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ana", "ana"),
        ("  Ana.Lopez_2-b \n", "Ana.Lopez_2-b"),
        ("9lives", "9lives"),
        ("a" * 32, "a" * 32),
        ("ADMIN", "ADMIN"),
    ],
)
def test_clean_username_accepts_and_strips(raw, expected):
    assert clean_username(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        42,
        ["ana"],
        b"ana",
        "",
        "ab",
        "a" * 33,
        "_ana",
        ".ana",
        "-ana",
        "ana lopez",
        "añorante",
        "ana\x00x",
        "ana\u202e",
        "../etc",
        "ana@casa",
        "<script>",
        "ａｎａ",
    ],
)
def test_clean_username_rejects_bad_input_as_bad_request(raw):
    with pytest.raises(Refusal) as caught:
        clean_username(raw)
    assert caught.value.code == "bad_request"
    assert "3 y 32 caracteres" in caught.value.message


def username_oracle(value: str) -> bool:
    allowed = ASCII_LETTERS_DIGITS | set("_.-")
    return 3 <= len(value) <= 32 and value[0] in ASCII_LETTERS_DIGITS and set(value) <= allowed


@FAST
@given(st.one_of(st.text(), st.text(alphabet="aZ9_.- é\t\n", max_size=40)))
def test_clean_username_accepts_exactly_the_allowed_names(raw):
    value = raw.strip()
    if username_oracle(value):
        assert clean_username(raw) == value
    else:
        with pytest.raises(Refusal):
            clean_username(raw)


@FAST
@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,31}", fullmatch=True))
def test_clean_username_keeps_every_valid_name_unchanged(name):
    assert clean_username(name) == name


# --- room codes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("abc", "abc"), (" Sala-1_b ", "Sala-1_b"), ("_x-", "_x-"), ("Z" * 32, "Z" * 32)],
)
def test_clean_room_code_accepts_and_strips(raw, expected):
    assert clean_room_code(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [None, 123, {"code": "abc"}, "", "ab", "a" * 33, "sala.1", "sala 1", "año", "a/b", "abc\x00"],
)
def test_clean_room_code_rejects_bad_input_as_bad_request(raw):
    with pytest.raises(Refusal) as caught:
        clean_room_code(raw)
    assert caught.value.code == "bad_request"
    assert caught.value.message


@FAST
@given(st.one_of(st.text(), st.text(alphabet="aZ9_-. ñ", max_size=40)))
def test_clean_room_code_accepts_exactly_the_allowed_codes(raw):
    value = raw.strip()
    if 3 <= len(value) <= 32 and set(value) <= ASCII_LETTERS_DIGITS | set("-_"):
        assert clean_room_code(raw) == value
    else:
        with pytest.raises(Refusal):
            clean_room_code(raw)


# --- truncate_for_log ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        (None, 64, ""),
        ("ana", 64, "ana"),
        ("x" * 100, 64, "x" * 64),
        (12345, 3, "123"),
        ("=cmd", 64, "=cmd"),
    ],
)
def test_truncate_for_log_cuts_at_limit(raw, limit, expected):
    assert truncate_for_log(raw, limit) == expected


@FAST
@given(st.text(), st.integers(min_value=0, max_value=100))
def test_truncate_for_log_is_a_prefix_within_the_limit(raw, limit):
    cut = truncate_for_log(raw, limit)
    assert raw.startswith(cut)
    assert len(cut) == min(len(raw), limit)


# --- message text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hola", "hola"),
        ("  ¿Qué tal, señor Núñez? 😀👍🏽  ", "¿Qué tal, señor Núñez? 😀👍🏽"),
        ("línea 1\r\nlínea 2\rlínea 3\nfin", "línea 1\nlínea 2\nlínea 3\nfin"),
        ("a\tb", "a b"),
        ("a\x00b\x07c\x1bd\x7fe\x85f", "abcdef"),
        ("pago \u202eexe.pdf", "pago exe.pdf"),
        ("x\u2066y\u2069z", "xyz"),
        ("familia 👨\u200d👩\u200d👧", "familia 👨\u200d👩\u200d👧"),
        ("<b>negrita</b>", "<b>negrita</b>"),
        ("a\ud800b", "ab"),
        ("\n\n  hola  \n", "hola"),
        ("x" * MAX_MESSAGE_CHARS, "x" * MAX_MESSAGE_CHARS),
    ],
)
def test_clean_message_text_keeps_text_and_removes_controls(raw, expected):
    assert clean_message_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "bad_request"),
        (123, "bad_request"),
        (["hola"], "bad_request"),
        ("", "bad_request"),
        ("   \r\n\t ", "bad_request"),
        ("\x00\x01\u202e", "bad_request"),
        ("x" * (MAX_MESSAGE_CHARS + 1), "too_long"),
        ("x" * 500_000, "too_long"),
        (" " * 500_000, "too_long"),
    ],
)
def test_clean_message_text_rejects_bad_input(raw, code):
    with pytest.raises(Refusal) as caught:
        clean_message_text(raw)
    assert caught.value.code == code


def test_empty_message_error_is_in_spanish():
    with pytest.raises(Refusal, match="El mensaje está vacío."):
        clean_message_text(" ")


def test_too_long_message_error_names_the_limit():
    with pytest.raises(Refusal, match="El mensaje supera los 2000 caracteres."):
        clean_message_text("x" * 2001)


def test_clean_message_text_honours_a_custom_limit():
    assert clean_message_text("abcde", max_chars=5) == "abcde"
    with pytest.raises(Refusal, match="supera los 4 caracteres"):
        clean_message_text("abcde", max_chars=4)


def test_message_length_is_counted_after_trimming_and_crlf():
    padded = "  " + "a\r\n" * 1000 + "  "
    assert clean_message_text(padded) == ("a\n" * 1000).strip()


message_text = st.text(
    alphabet=st.one_of(
        st.characters(), st.sampled_from(["\r", "\n", "\t", "\x00", " ", *BIDI_CONTROLS])
    ),
    max_size=2500,
)


@FAST
@given(message_text)
def test_clean_message_text_output_is_safe_or_refused(raw):
    try:
        text = clean_message_text(raw)
    except Refusal as error:
        assert error.code in {"bad_request", "too_long"}
        return
    assert 1 <= len(text) <= MAX_MESSAGE_CHARS
    assert text == text.strip()
    assert not any(is_control(c) and c != "\n" for c in text)
    assert not any(c in BIDI_CONTROLS for c in text)
    text.encode("utf-8")


@FAST
@given(message_text)
def test_clean_message_text_is_idempotent(raw):
    try:
        text = clean_message_text(raw)
    except Refusal:
        return
    assert clean_message_text(text) == text


@FAST
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]),
        min_size=1,
        max_size=MAX_MESSAGE_CHARS,
    )
)
def test_clean_message_text_keeps_printable_text_unchanged(raw):
    raw = "".join(c for c in raw if c not in BIDI_CONTROLS) or "x"
    assert clean_message_text(raw) == raw


# --- display filenames ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("informe.pdf", "informe.pdf"),
        ("informe_año.pdf", "informe_año.pdf"),
        ("📎 fotos 2024.zip", "📎 fotos 2024.zip"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("C:\\Users\\ana\\Desktop\\nota.txt", "nota.txt"),
        ("/var/www/", "archivo"),
        ("..", "archivo"),
        ("", "archivo"),
        (None, "archivo"),
        (42, "archivo"),
        ("\x00\x01 ", "archivo"),
        (".htaccess", "htaccess"),
        (" . .bashrc", "bashrc"),
        ("nota.txt\x00.exe", "nota.txt.exe"),
        ("linea\r\nnueva.txt", "lineanueva.txt"),
        ("factura\u202efdp.exe", "facturafdp.exe"),
        ("a\u2066b\u2069\u200b\ufeff.txt", "ab.txt"),
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("informe.exe. . ", "informe.exe"),
        ("cafe\u0301.txt", "café.txt"),
        ("a\ud800.txt", "a.txt"),
    ],
)
def test_clean_display_filename_table(raw, expected):
    assert clean_display_filename(raw) == expected


def test_long_filename_is_cut_keeping_the_extension():
    name = clean_display_filename("a" * 300 + ".pdf")
    assert len(name) == MAX_FILENAME_CHARS
    assert name == "a" * (MAX_FILENAME_CHARS - 4) + ".pdf"


def test_long_filename_without_extension_is_cut_to_the_limit():
    assert clean_display_filename("b" * 300) == "b" * MAX_FILENAME_CHARS


def test_long_filename_with_an_absurd_extension_is_cut_plainly():
    name = clean_display_filename("a." + "x" * 300)
    assert name == ("a." + "x" * 300)[:MAX_FILENAME_CHARS]


def test_filename_honours_a_custom_limit():
    assert clean_display_filename("informe_anual.docx", max_chars=10) == "infor.docx"


@pytest.mark.parametrize(
    ("name", "extension"),
    [
        ("informe.PDF", "pdf"),
        ("copia.tar.gz", "gz"),
        ("README", ""),
        (".htaccess", ""),
        ("nombre.", ""),
        ("", ""),
        ("carpeta.d/archivo", ""),
        ("C:\\docs\\hoja.XLSX", "xlsx"),
        ("foto.JPEG ", "jpeg"),
    ],
)
def test_file_extension_is_lowercase_without_dot(name, extension):
    assert file_extension(name) == extension


@FAST
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(),
            st.sampled_from(["/", "\\", ".", " ", "\x00", "\r", "\n", *BIDI_CONTROLS]),
        ),
        max_size=400,
    ),
    st.integers(min_value=len("archivo"), max_value=300),
)
def test_clean_display_filename_output_is_always_safe(raw, max_chars):
    name = clean_display_filename(raw, max_chars)
    assert 1 <= len(name) <= max_chars
    assert not set(name) & set('/\\<>:"|?*\x00')
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in name)
    assert not name.startswith(".") and name == name.strip()
    assert unicodedata.is_normalized("NFC", name)
    assert clean_display_filename(name, max_chars) == name


@FAST
@given(
    st.from_regex(r"[a-zA-Z0-9ñáé_ -]{1,20}", fullmatch=True),
    st.sampled_from(["pdf", "docx", "png", "csv"]),
)
def test_clean_display_filename_keeps_plain_names(stem, extension):
    raw = f"{stem.strip() or 'x'}.{extension}"
    assert clean_display_filename(raw) == raw


@FAST
@given(st.text(min_size=1, max_size=300), st.sampled_from(["pdf", "odt", "jpeg"]))
def test_shortened_filename_keeps_its_extension(stem, extension):
    name = clean_display_filename("a" + stem.replace(".", "") + "b" * 200 + "." + extension)
    assert name.endswith("." + extension)
    assert file_extension(name) == extension


# --- CSV cells -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("ana", "ana"),
        (42, "42"),
        (-1, "'-1"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\\n=1"),
        ("=1", "'=1"),
        ("a=1", "a=1"),
        ("línea 1\r\nlínea 2\rlínea 3\nfin", "línea 1\\nlínea 2\\nlínea 3\\nfin"),
        ("ana\r\n2024-01-01,login_success,admin", "ana\\n2024-01-01,login_success,admin"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("\x1b[31mrojo\x00\x85", "\\x1b[31mrojo\\x00\\x85"),
        ("tab\tin", "tab\tin"),
        ("año 😀 \u202e", "año 😀 \u202e"),
    ],
)
def test_neutralise_csv_cell_table(value, expected):
    assert neutralise_csv_cell(value) == expected


def test_megabyte_cell_is_truncated_with_marker():
    cell = neutralise_csv_cell("x" * 1_000_000)
    assert len(cell) == MAX_CELL_CHARS
    assert cell.endswith(TRUNCATION_MARKER)
    assert cell.startswith("x" * 100)


def test_cell_at_the_limit_is_not_truncated():
    assert neutralise_csv_cell("x" * MAX_CELL_CHARS) == "x" * MAX_CELL_CHARS


def test_truncated_formula_cell_keeps_its_quote():
    cell = neutralise_csv_cell("=" * 5000, max_chars=50)
    assert cell.startswith("'=") and cell.endswith(TRUNCATION_MARKER) and len(cell) == 50


def test_escaped_newlines_can_push_a_cell_over_the_limit():
    cell = neutralise_csv_cell("\n" * 30, max_chars=40)
    assert len(cell) == 40 and cell.endswith(TRUNCATION_MARKER)


cell_values = st.one_of(
    st.none(),
    st.integers(),
    st.text(
        alphabet=st.one_of(
            st.characters(),
            st.sampled_from(["\r", "\n", "\t", "=", "+", "-", "@", '"', ",", "\x00"]),
        ),
        max_size=300,
    ),
)


@FAST
@given(cell_values, st.integers(min_value=20, max_value=400))
def test_neutralised_cell_is_one_line_and_never_a_formula(value, max_chars):
    cell = neutralise_csv_cell(value, max_chars)
    assert len(cell) <= max_chars
    assert "\r" not in cell and "\n" not in cell
    assert len(cell.splitlines()) <= 1
    assert not cell.startswith(FORMULA_STARTS)
    assert not any(is_control(c) and c != "\t" for c in cell)


@FAST
@given(cell_values)
def test_neutralised_cell_quotes_every_formula_start(value):
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        assert neutralise_csv_cell(value).startswith("'")


@FAST
@given(st.lists(cell_values, min_size=1, max_size=5))
def test_neutralised_cells_survive_a_csv_round_trip(values):
    row = [neutralise_csv_cell(v) for v in values]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow(row)
    assert list(csv.reader(io.StringIO(buffer.getvalue(), newline=""))) == [row]
    assert len(buffer.getvalue().splitlines()) == 1


@FAST
@given(st.text(alphabet=st.characters(blacklist_categories=["Cc", "Zl", "Zp"]), max_size=300))
def test_neutralise_csv_cell_keeps_harmless_text(text):
    if not text.startswith(FORMULA_STARTS):
        assert neutralise_csv_cell(text) == text
