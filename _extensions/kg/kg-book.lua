-- kg-book.lua: Quarto book structure for the report's Typst output (format kg-typst).
--
-- * book parts and the "Vedlegg" divider become the template's part pages (#kg-part);
-- * the first appendix switches heading numbering to "A", "A.1" (#kg-appendix);
-- * headings in an unnumbered chapter (Forord, Sammendrag) and headings deeper than
--   number-depth are unnumbered, as in Quarto's HTML book and in the fallback renderer.
--
-- Book item types come from Quarto's file metadata API (quarto.doc.file_metadata(),
-- quarto.utils.file_metadata_filter(), Quarto >= 1.9.17), the API the bundled orange-book
-- format uses for the same purpose.

local appendix_started = false
local chapter_unnumbered = false
local number_depth = 3

local function typst(text)
  return pandoc.RawBlock("typst", text)
end

local function typst_content(inlines)
  -- the heading text as Typst markup (pandoc's own Typst writer escapes it)
  local doc = pandoc.Pandoc({ pandoc.Plain(inlines) })
  local out = pandoc.write(doc, "typst")
  return (out:gsub("%s+$", ""))
end

-- read number-depth first (pandoc visits Meta after the blocks within one filter)
local meta_filter = {
  Meta = function(meta)
    if meta["number-depth"] ~= nil then
      number_depth = tonumber(pandoc.utils.stringify(meta["number-depth"])) or number_depth
    end
  end,
}

local header_filter = {
  Header = function(el)
    if not quarto.doc.is_format("typst") then
      return nil
    end
    local state = quarto.doc.file_metadata()
    local item = state and state.file and state.file.bookItemType or nil
    if el.level == 1 then
      chapter_unnumbered = el.classes:includes("unnumbered")
      if item == "part" then
        return typst("#kg-part[" .. typst_content(el.content) .. "]")
      end
      if item == "appendix" and not appendix_started then
        appendix_started = true
        local blocks = { typst("#kg-appendix-start()"), typst('#set heading(numbering: "A.1.1")') }
        if el.classes:includes("unnumbered") then
          -- the synthetic "Vedlegg" divider Quarto inserts before the appendices
          table.insert(blocks, typst("#kg-part[" .. typst_content(el.content) .. "]"))
          return blocks
        end
        table.insert(blocks, el)
        return blocks
      end
      return nil
    end
    if chapter_unnumbered or el.level > number_depth then
      if not el.classes:includes("unnumbered") then
        el.classes:insert("unnumbered")
      end
      return el
    end
    return nil
  end,
}

return {
  meta_filter,
  quarto.utils.combineFilters({
    quarto.utils.file_metadata_filter(),
    header_filter,
  }),
}
