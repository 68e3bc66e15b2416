# SPDX-License-Identifier: BSD-2-Clause
# One figure: a line per series, the median at each point, a bar from the fastest to the slowest
# repetition. plots.py sets, with -e:
#   data     the points: one block per series (two blank lines apart), its title on its first
#            line, then "x median min max" lines
#   out      the SVG to write          n        the number of series
#   title, xlabel, ylabel              logx, logy   1 for a log scale
#   caption  the machine, the date and the command, lines apart; lines  how many
#   vline    an x to mark (the CPU count on a thread axis), or 0
#   styles   each series' line type, space-separated: k (1-14) the k-th colour, 100 + k the
#            same paler, 100 the grey of a reference series (the baseline)
H = 600 + 18 * lines
set terminal svg size 960, H dynamic noenhanced font "sans,13" background "white"
set output out
set encoding utf8

set title title font "sans,15"
set xlabel xlabel
set ylabel ylabel
if (logx) { set logscale x 2 }
if (logy) { set logscale y 10; set format y "%g" }
set grid xtics ytics lc rgb "#dddddd"
set key outside right top Left reverse samplen 2 spacing 1.1 font "sans,11"
set offsets graph 0.04, graph 0.04, 0, 0
set xzeroaxis lt -1 lw 1
set bmargin 4 + lines * 1.2

# The caption: under the plot, left-aligned, small.
set label 1 caption at screen 0.01, screen (12.0 + 15.0 * (lines - 1)) / H left \
	font "sans,10" textcolor rgb "#444444"

if (vline > 0) {
	set arrow 1 from vline, graph 0 to vline, graph 1 nohead dashtype 3 lc rgb "#888888"
	set label 2 sprintf("%g CPUs", vline) at vline, graph 0.97 left offset 0.5, 0 \
		font "sans,10" textcolor rgb "#666666"
}

# Colours that stay apart in print and for the common colour blindnesses (Okabe-Ito first), and
# each halfway to white: solid and opaque, which every SVG renderer draws alike.
colours = "#0072b2 #d55e00 #009e73 #cc79a7 #e69f00 #56b4e9 #000000 #b22222 #6a3d9a #8c564b " . \
	"#7f7f00 #1f9e9e #e7298a #4d4d4d"
pale = "#7fb8d8 #eaae7f #7fceb9 #e5bcd3 #f2cf7f #aad9f4 #7f7f7f #d89090 #b49ecc #c5aaa5 " . \
	"#bfbf7f #8fcece #f394c4 #a6a6a6"
do for [k=1:words(colours)] {
	set linetype k lc rgb word(colours, k) lw 2 dashtype 1 pt k + 4
	set linetype 100 + k lc rgb word(pale, k) lw 2 dashtype 1 pt k + 4
}
set linetype 100 lc rgb "#999999" lw 1.5 dashtype 1 pt 1
style(i) = int(word(styles, i + 1))

plot for [i=0:n-1] data index i using 1:2:3:4 with yerrorlines linetype style(i) \
	pointsize 0.8 title columnheader(1)
