// Copies what tsc does not: the icons (light and dark SVG) and the codex JSON of each node.
const { src, dest, parallel } = require('gulp');

function copyIcons() {
	return src('icons/**/*.svg').pipe(dest('dist/icons'));
}

function copyCodex() {
	return src('nodes/**/*.node.json').pipe(dest('dist/nodes'));
}

exports['build:assets'] = parallel(copyIcons, copyCodex);
