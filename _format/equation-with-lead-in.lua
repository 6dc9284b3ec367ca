-- A display equation is never separated from the sentence that leads into it: when a
-- paragraph is followed directly by a paragraph holding only a display equation (and its
-- label), the two are set in one unbreakable block, so that a page break or a float cannot
-- fall between "… is embedded as" and the equation. Typst has no "keep with previous" for
-- blocks; this is its equivalent. The equation stays a paragraph of its own, so Quarto's
-- cross-references still number it.
if not FORMAT:match("typst") then
  return {}
end

local function is_display_equation(block)
  if block.t ~= "Para" then
    return false
  end
  local math_seen = false
  for _, inline in ipairs(block.content) do
    if inline.t == "Math" and inline.mathtype == "DisplayMath" then
      math_seen = true
    elseif inline.t ~= "Space" and inline.t ~= "SoftBreak"
        and not (inline.t == "Str" and inline.text:match("^{#eq%-[%w%-]+}$")) then
      return false
    end
  end
  return math_seen
end

function Blocks(blocks)
  local out = pandoc.List()
  local i = 1
  while i <= #blocks do
    local block, following = blocks[i], blocks[i + 1]
    if block.t == "Para" and following and is_display_equation(following) then
      out:insert(pandoc.RawBlock("typst", "#block(breakable: false)["))
      out:insert(block)
      out:insert(following)
      out:insert(pandoc.RawBlock("typst", "]"))
      i = i + 2
    else
      out:insert(block)
      i = i + 1
    end
  end
  return out
end
