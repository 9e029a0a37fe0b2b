<!-- title: Tìm kiếm -->
<h2>Tìm kiếm</h2><p>Không có kết quả.</p>
