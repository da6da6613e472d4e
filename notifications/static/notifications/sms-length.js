/*
 * Live length of a text message template while staff type it.
 *
 * Progressive enhancement: for each <textarea data-sms-length="ID">, the element with that id
 * (an aria-live="polite" element the page provides) says how long the text is and whether it
 * fits in one text message. Without this script the form still works: the template linter
 * (notifications/templating.py) checks the length when the template is saved.
 *
 * Counts exactly as notifications/gsm.py does: GSM-7 when every character is in the GSM 03.38
 * basic set or extension table (extension characters count 2), otherwise UCS-2 counted in
 * UTF-16 code units (an emoji counts 2). It measures the raw text; placeholders such as
 * {first_name} are measured at their longest when the template is saved.
 *
 * No inline script anywhere (the Content Security Policy forbids it), no libraries, ES2017.
 */
(function () {
  "use strict";

  // The GSM 03.38 basic set in table order (without 0x1B, the escape) and the extension
  // table. tests/notifications/test_gsm.py reads these two constants and checks them against
  // GSM_BASIC_CHARS and GSM_EXTENSION_CHARS in portal/gsm.py: change both together.
  const GSM_BASIC =
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5" +
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9" +
    " !\"#\u00a4%&'()*+,-./" +
    "0123456789:;<=>?" +
    "\u00a1ABCDEFGHIJKLMNO" +
    "PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7" +
    "\u00bfabcdefghijklmno" +
    "pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0";
  const GSM_EXTENSION = "\f^{}\\[~]|\u20ac";

  const SINGLE_LIMIT = { "GSM-7": 160, "UCS-2": 70 };
  const PART_LIMIT = { "GSM-7": 153, "UCS-2": 67 };
  const DELAY_MS = 300;

  const basic = new Set(GSM_BASIC);
  const extension = new Set(GSM_EXTENSION);

  function measure(text) {
    let septets = 0;
    let nonGsmCharacter = null;
    for (const char of text) {
      if (basic.has(char)) {
        septets += 1;
      } else if (extension.has(char)) {
        septets += 2;
      } else {
        nonGsmCharacter = char;
        break;
      }
    }
    const encoding = nonGsmCharacter === null ? "GSM-7" : "UCS-2";
    // A string's length is in UTF-16 code units, as UCS-2 is counted.
    const length = encoding === "GSM-7" ? septets : text.length;
    let segments = 0;
    if (length > 0) {
      segments =
        length <= SINGLE_LIMIT[encoding] ? 1 : Math.ceil(length / PART_LIMIT[encoding]);
    }
    return {
      encoding,
      length,
      segments,
      limitSingle: SINGLE_LIMIT[encoding],
      nonGsmCharacter,
    };
  }

  // Invisible characters (a no-break space, a tab, a zero-width space pasted from elsewhere)
  // are shown by code, so staff can tell what to look for.
  const INVISIBLE = new RegExp(
    "^[\\s\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5" +
      "\\u180e\\u200b-\\u200f\\u2028-\\u202f\\u2060-\\u206f\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0]$"
  );

  function describeCharacter(char) {
    if (INVISIBLE.test(char)) {
      const code = char.codePointAt(0).toString(16).toUpperCase();
      return "U+" + "0000".slice(code.length) + code;
    }
    return char;
  }

  function status(text) {
    const size = measure(text);
    let count = size.length === 1 ? "1 character." : size.length + " characters.";
    let message;
    if (size.length === 0) {
      message = count;
    } else if (size.segments <= 1) {
      message =
        size.encoding === "GSM-7"
          ? count + " Fits in 1 text message (limit " + size.limitSingle + ")."
          : count +
            " Fits in 1 text message (limit " +
            size.limitSingle +
            ", because of the character " +
            describeCharacter(size.nonGsmCharacter) +
            ").";
    } else {
      count = size.length + " characters, " + size.segments + " text messages.";
      message =
        size.encoding === "GSM-7"
          ? count + " Too long: a text message can be " + size.limitSingle + " characters."
          : count +
            " Too long: a text with the character " +
            describeCharacter(size.nonGsmCharacter) +
            " can be " +
            size.limitSingle +
            " characters.";
    }
    if (/\{[^{}]*\}/.test(text)) {
      message += " Placeholders are measured at their longest when you save.";
    }
    return message;
  }

  function attach(textarea) {
    if (textarea.hasAttribute("data-sms-length-ready")) {
      return;
    }
    const output = document.getElementById(textarea.getAttribute("data-sms-length"));
    if (!output) {
      return;
    }
    textarea.setAttribute("data-sms-length-ready", "");
    let timer = null;
    const update = function () {
      output.textContent = status(textarea.value);
    };
    // Waits for a pause in typing, so a screen reader is not read every keystroke.
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(update, DELAY_MS);
    });
    update();
  }

  function init() {
    const textareas = document.querySelectorAll("textarea[data-sms-length]");
    for (let i = 0; i < textareas.length; i += 1) {
      attach(textareas[i]);
    }
  }

  if (typeof document !== "undefined") {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", init);
    } else {
      init();
    }
  }

  // Lets the test suite run the same counting in Node; browsers have no `module`.
  if (typeof module === "object" && module && module.exports) {
    module.exports = { measure, status, GSM_BASIC, GSM_EXTENSION };
  }
})();
