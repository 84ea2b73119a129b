"""The baseline of issue 7: what an analyst would write without this project.

cbsodata-shaped tables (the JSON lists ``cbsodata.get_data`` returns, here read from the mirror) into pandas,
a loop per municipality computing two indicators (income per inhabitant from the KWB, loneliness from the
health monitor) and their divide measures over buurten (gap and ratio of the worst- and best-off 20% of
residents, Theil for income), and one Plotly HTML page per municipality with plotly.js inlined. Kept minimal
on purpose, but not made slow on purpose: each table is read once, and the per-municipality work uses numpy.
"""
