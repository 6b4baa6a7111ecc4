"""The hand-made hard set for the tokenizer fixtures: text that stresses pre-tokenizer regexes (Unicode
categories, contractions, digit grouping, whitespace look-ahead), byte-level BPE and special-token parsing.
Each case is (name, text). Deterministic: the random cases use a fixed seed."""
import random


def _random_cases():
    rng = random.Random(20240611)
    # Code point pools: ASCII, Latin-1 and Latin Extended, Greek/Cyrillic, CJK, Hangul, Arabic, Devanagari,
    # combining marks, emoji, whitespace of all kinds, digits of other scripts, controls.
    pools = [
        [chr(c) for c in range(0x20, 0x7F)],
        [chr(c) for c in range(0xA0, 0x250)],
        [chr(c) for c in range(0x370, 0x3FF)] + [chr(c) for c in range(0x400, 0x4FF)],
        [chr(c) for c in range(0x4E00, 0x4E00 + 400)],
        [chr(c) for c in range(0xAC00, 0xAC00 + 200)],
        [chr(c) for c in range(0x600, 0x6FF)],
        [chr(c) for c in range(0x900, 0x97F)],
        [chr(c) for c in range(0x300, 0x36F)],
        [chr(c) for c in range(0x1F300, 0x1F64F)],
        list(" \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2009\u200a\u2028\u2029\u202f\u205f\u3000"),
        list("0123456789٠١٢٣٤٥٦٧٨٩०१२३४५६७८९²³¹¼½¾ⅠⅡⅫ"),
        [chr(c) for c in range(0x00, 0x20)] + ["\x7f"],
        list("'’`\"") + ["'s", "'S", "'ll", "'LL", "'re", "'ve", "'d", "'m", "'t"],
    ]
    cases = []
    for k in range(24):
        n = rng.randint(20, 300)
        weights = [rng.random() ** 2 for _ in pools]
        s = "".join(rng.choice(rng.choices(pools, weights)[0]) for _ in range(n))
        cases.append((f"random_{k}", s))
    return cases


def hard_set():
    c = [
        ("empty", ""), ("space", " "), ("two_spaces", "  "), ("newline", "\n"), ("newlines", "\n\n\n"),
        ("tab", "\t"), ("crlf", "\r\n"), ("crlf_mix", " \r\n \r\n\r\r\n\n "), ("trailing_spaces", "hello   "),
        ("leading_spaces", "   hello"), ("spaces_then_word", "a" + " " * 300 + "b"), ("spaces_1000", " " * 1000),
        ("newlines_100", "\n" * 100), ("tabs_spaces", " \t" * 50 + "x"), ("space_newline_space", "a \n b \n\n c"),
        ("indent_code", "if x:\n    y = 1\n        z = 2\n\n\n    return y\n"),
        ("nbsp", "a\u00a0b \u00a0 c\u00a0\u00a0"), ("ideographic_space", "a\u3000b\u3000\u3000c"),
        ("unicode_spaces", "x\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205fy"),
        ("line_para_sep", "ab\u2028\u2029c\u2028 d"), ("nel", "a\x85 b \x85c\x85\x85d"),
        ("vt_ff", "a\x0bb\x0cc \x0b\x0c d"), ("fs_gs_rs_us", "a\x1cb\x1dc\x1ed\x1fe \x1c"),
        ("contractions", "I'm you're he's we've they'll I'd don't can't won't it's"),
        ("contractions_upper", "I'M YOU'RE HE'S WE'VE THEY'LL I'D DON'T"),
        ("contractions_mixed", "It'S We'Ve They'lL 's 't 're 'Re"), ("contraction_long_s", "it'ſ he'ſ"),
        ("curly_apostrophe", "it’s don’t ‘quoted’ “double”"), ("apostrophes", "'''s ''s 's' x's's"),
        ("contraction_after_space", "rock 'n' roll ' s 'tis"),
        ("digits", "1234567890 12 123 1234 12345 123456 1234567"), ("decimal", "3.14159 2,718 1,000,000 -42 +7"),
        ("digits_letters", "x2y 12a34 a1b2c3 0x1F 1e-9 v1.2.3"), ("arabic_indic_digits", "٣٤٥ ١٢٣٤٥٦٧"),
        ("devanagari_digits", "१२३४५"), ("number_forms", "½ ⅓ ¼ ² ³ ¹ Ⅻ ⅷ ① ⑩ 𝟘𝟙𝟚𝟛"),
        ("fullwidth_digits", "１２３４５ ＡＢＣ"), ("space_digits", "a 1 b  2 c   3  44  555 6666"),
        ("emoji", "🤗👍🏽👨‍👩‍👧‍👦🇺🇸❤️✨ 😀😃"), ("emoji_words", "I ❤️ NY 🍕🍕 and 👍 ok"),
        ("cjk", "你好，世界！这是一个测试。"), ("japanese", "日本語のテキストです。カタカナ、ひらがな。"),
        ("korean", "한국어 텍스트 입니다"), ("arabic", "مرحبا بالعالم، كيف حالك؟"), ("hebrew", "שלום עולם"),
        ("rtl_marks", "a\u200fb\u200ec\u202ad\u202c"), ("thai", "สวัสดีครับ ภาษาไทย"),
        ("devanagari", "नमस्ते दुनिया"), ("greek_cyrillic", "Ελληνικά και русский язык"),
        ("combining", "e\u0301 A\u0308 a\u0300\u0301\u0302\u0303 n\u0303o"),
        ("zalgo", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319a\u0310\u0357l\u0348g\u0315o"),
        ("zero_width", "a\u200bb\u200cc\u200dd\u2060e\ufeff"), ("bom_start", "\ufeffHello"),
        ("private_use", "\ue000\uf8ff\U000f0000"), ("nonchars", "\ufffe\uffff\U0010ffff\ufffd"),
        ("controls", "\x00\x01\x02\x1b[31mred\x1b[0m\x7f\x08"), ("c1_controls", "\x80\x81\x9f\x9c"),
        ("unicode15_16", "\U0001E030\U00011F04\U00031350\U0001FAE8 \u1C89\U00010D4A"),
        ("code_python", "def f(x):\n    return x**2  # square\n\nprint(f(3))\n"),
        ("code_c", "int main(void) {\n\tif (a && b || !c) { return -1; }\n\treturn 0;\n}\n"),
        ("code_json", '{"a": [1, 2, 3], "b": {"c": null, "d": true}}'),
        ("html", '<div class="x">&amp; &lt;tag&gt;</div>\n<br/>'), ("url", "https://example.com/a?b=1&c=%20#frag"),
        ("email_money", "mail me@example.org: $100.00, €50, ¥1000, 50%"),
        ("punctuation", "...!!!???---___***///\\\\||~~``^^"), ("dashes_quotes", "—–-‒ «» ‹› „“ ”"),
        ("mixed_case", "MiXeD cAsE ALLCAPS snake_case_var camelCaseVar"),
        ("long_word", "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3),
        ("long_letters", "a" * 2000), ("long_punct", "=" * 500 + "\n" + "-" * 300),
        ("long_digits", "9" * 700), ("long_cjk", "漢" * 400),
        ("specials_llama", "<|begin_of_text|>Hi<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nyo<|eom_id|>"),
        ("specials_chatml", "<|im_start|>user\nhi<|im_end|>\n<|endoftext|>"),
        ("specials_partial", "<|eot_id <|eot_id|| <<|eot_id|>> <|reserved_special_token_0|>x"),
        ("specials_gpt2", "a<|endoftext|>b <|endoftext|> <repo_name>x<filename>"),
        ("wikitext_like", " = Robert Boulter = \n \n Robert Boulter is an English film , television and theatre "
                          "actor . He had a guest @-@ starring role on the television series The Bill in 2000 . \n"),
    ]
    return c + _random_cases()
