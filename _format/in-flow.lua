-- A figure or table inside a div of class "in-flow" (`::: {.in-flow}` around its cell) is set
-- where it is called instead of floating (Typst). A float that does not fit on its page waits
-- for the next, and Typst left a small table called behind a full-page figure a page behind
-- it, with the figure's page filled by later text; set in the flow, the table follows its
-- text directly, under the figure. The rule is scoped to the div's block and leaves every
-- other float as it is.
if not FORMAT:match("typst") then
  return {}
end

function Div(el)
  if el.classes:includes("in-flow") then
    -- the space a float keeps from the text, above and below
    el.content:insert(1, pandoc.RawBlock("typst", "#set figure(placement: none)\n#v(0.8em)"))
    el.content:insert(pandoc.RawBlock("typst", "#v(0.4em)"))
    return el
  end
end
