-- Typst reads an ASCII apostrophe right after a digit as a prime (ResNet-20′s); pandoc's
-- Typst writer turns every typographic apostrophe back into ASCII. After a digit, emit the
-- apostrophe as raw Typst (U+2019), which Typst prints as it is.
if not FORMAT:match("typst") then
  return {}
end

local APOSTROPHE = "\u{2019}"

function Str(el)
  local text = el.text:gsub("(%d)'", "%1" .. APOSTROPHE)
  if not text:find("%d" .. APOSTROPHE) then
    return nil
  end
  local inlines = pandoc.List()
  local start = 1
  for digit_end, after in text:gmatch("()%d" .. APOSTROPHE .. "()") do
    -- digit_end points at the digit; the apostrophe follows it
    inlines:insert(pandoc.Str(text:sub(start, digit_end)))
    inlines:insert(pandoc.RawInline("typst", APOSTROPHE))
    start = after
  end
  if start <= #text then
    inlines:insert(pandoc.Str(text:sub(start)))
  end
  return inlines
end
