"""The report → files for people: the summary workbook, sentences, feedback copies."""
