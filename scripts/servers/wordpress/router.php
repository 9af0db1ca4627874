<?php
// Router for `php -S`: what Apache's rewrite rules do for WordPress. Existing files (and
// directories with an index.php) are served as they are; every other path goes to index.php,
// so pretty permalinks and /wp-json/ work. With KEYWARD_WP_PLAIN_PERMALINKS set it plays a web
// server without URL rewriting instead: other paths are 404, like Apache without .htaccess.
$path = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
$file = $_SERVER['DOCUMENT_ROOT'] . $path;
if ($path !== '/' && (is_file($file) || (is_dir($file) && is_file(rtrim($file, '/') . '/index.php')))) {
    return false;
}
if (getenv('KEYWARD_WP_PLAIN_PERMALINKS') && $path !== '/') {
    http_response_code(404);
    header('Content-Type: text/html; charset=iso-8859-1');
    echo "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n";
    return true;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
