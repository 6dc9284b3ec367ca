-- A reference that ends with its DOI or URL ends with the link itself: the period that
-- citeproc's style adds after it reads as part of the address (and, copied, breaks it).
-- Runs after citeproc (see _quarto.yml); elsewhere it changes nothing.

local function ends_with_link(inlines)
  local n = #inlines
  return n >= 2 and inlines[n - 1].t == "Link" and inlines[n].t == "Str" and inlines[n].text == "."
end

local function trim(block)
  if (block.t == "Para" or block.t == "Plain") and ends_with_link(block.content) then
    block.content:remove(#block.content)
  end
  return block
end

function Div(div)
  if div.identifier ~= "refs" then
    return nil
  end
  return div:walk({ Para = trim, Plain = trim })
end
